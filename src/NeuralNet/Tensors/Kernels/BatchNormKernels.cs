using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Batch normalization's per-channel loops over x viewed as (N, C, S): channel c's m = N·S values are the N slices
/// x[n, c, :] of length S. Channels are independent and run in parallel blocks, each channel by one thread in a fixed
/// order, so results do not depend on the thread count. Slices go through the <see cref="Elementwise"/> kernels (the
/// level of <see cref="Simd.Active"/>); per-slice sums are accumulated in double. Nothing is allocated once each
/// thread has its job object. <see cref="BatchNormKernelsReference"/> is the plain-loop specification.
/// </summary>
public static unsafe class BatchNormKernels
{
    /// <summary>
    /// Per channel c: with <paramref name="batchStatistics"/>, μ = (1/m)·Σ x and σ² = (1/m)·Σ (x − μ)² (two passes,
    /// biased) are computed into <paramref name="mean"/>[c] and <paramref name="variance"/>[c]; otherwise they are read
    /// from there. Then r = 1/√(σ² + ε) into <paramref name="rstd"/>[c] and y = γ·x̂ + β with x̂ = (x − μ)·r, computed as
    /// (x − μ)·(γ·r) + β in one pass; x̂ is not stored (the backward pass recomputes it from x, μ and r).
    /// x, y: (N, C, S); γ, β: (C); mean, variance, rstd: (C) in double. With <paramref name="relu"/>,
    /// y = max(0, γ·x̂ + β): a ReLU that follows, applied while each slice is still in the L1 cache.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int channels, int spatial, bool batchStatistics,
        Span<double> mean, Span<double> variance, double eps, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> y, Span<double> rstd, bool relu = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = n * channels * spatial;
        CheckLengths(nameof(Forward), length, x.Length, y.Length);
        CheckLengths(nameof(Forward), channels, mean.Length, variance.Length, rstd.Length, gamma.Length, beta.Length);
        fixed (T* px = x, py = y, pgamma = gamma, pbeta = beta)
        fixed (double* pmean = mean, pvar = variance, prstd = rstd)
        {
            var job = Job<T>.ForThisThread;
            job.SetShape(n, channels, spatial, batchStatistics);
            job.X = px;
            job.Y = py;
            job.Gamma = pgamma;
            job.Beta = pbeta;
            job.Mean = pmean;
            job.Variance = pvar;
            job.Rstd = prstd;
            job.Eps = eps;
            job.Relu = relu;
            job.Run(forward: true, length);
        }
    }

    /// <summary>
    /// Per channel c, from dy, the forward pass's input x and its μ and r (x̂ = (x − μ)·r): dβ[c] += Σ dy,
    /// dγ[c] += Σ dy·x̂, and dx = γ·r·(dy − Σ dy/m − x̂·Σ dy·x̂/m) with <paramref name="batchStatistics"/> (μ and σ²
    /// depend on x), else dx = γ·r·dy. dy, x, dx: (N, C, S); γ, dγ, dβ: (C); mean, rstd: (C) in double.
    /// With <paramref name="reluBeta"/> (β of a forward fused with a ReLU, <c>relu: true</c>), dy is first masked as the
    /// following ReLU's backward does, dy ⊙ [z &gt; 0], slice by slice into dx, and the rest reads it from there. The mask
    /// is recomputed from x with the forward's arithmetic, z &gt; 0 ⟺ (x − μ)·(γ·r) + β &gt; 0, so neither the ReLU's own
    /// pass nor a read of z is needed (γ and β must be those of the forward pass); the bytes are those of the two
    /// backward passes one after the other.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int n, int channels, int spatial, bool batchStatistics,
        ReadOnlySpan<T> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd, Span<T> dgamma, Span<T> dbeta, Span<T> dx,
        ReadOnlySpan<T> reluBeta = default) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackwardCore(dy, x, n, channels, spatial, batchStatistics, gamma, mean, rstd, dgamma, dbeta, dx, reluBeta, default, 0);

    /// <summary>
    /// <see cref="Backward{T}"/>
    /// after a fused BatchNorm + ReLU whose output, planes of <paramref name="height"/> × <paramref name="width"/>, went
    /// through a max pooling (window <paramref name="kernelSize"/>, <paramref name="stride"/>, no padding):
    /// <paramref name="dyPooled"/> is the gradient at the pooling's output, (N, C, Ho, Wo), and <paramref name="argmax"/>
    /// (its length) the flat index in its plane of each pooled output's winner. The gradient
    /// at the ReLU's output is built slice by slice in dx, as the pooling's backward builds it (zero, then
    /// dx[a] += dy for each pooled output in order), and used at once, so the pooling's full-size gradient is never
    /// written to and read back from memory; the bytes are those of the three backward passes one after the other.
    /// </summary>
    public static void BackwardUnpooled<T>(ReadOnlySpan<T> dyPooled, ReadOnlySpan<int> argmax, int height, int width, int kernelSize,
        int stride, ReadOnlySpan<T> x, int n, int channels, bool batchStatistics, ReadOnlySpan<T> gamma, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd, Span<T> dgamma, Span<T> dbeta, Span<T> dx, ReadOnlySpan<T> reluBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernelSize < 1 || stride < 1 || height < kernelSize || width < kernelSize)
            throw new ArgumentException($"BatchNormKernels.BackwardUnpooled: a {kernelSize}×{kernelSize} window with stride {stride} on {height}×{width} planes.");
        int oh = (height - kernelSize) / stride + 1, ow = (width - kernelSize) / stride + 1;
        CheckLengths(nameof(BackwardUnpooled), n * channels * oh * ow, dyPooled.Length, argmax.Length);
        if (reluBeta.IsEmpty) throw new ArgumentException("BatchNormKernels.BackwardUnpooled: the fused ReLU's β is required.", nameof(reluBeta));
        BackwardCore(dyPooled, x, n, channels, height * width, batchStatistics, gamma, mean, rstd, dgamma, dbeta, dx, reluBeta, argmax, oh * ow);
    }

    private static void BackwardCore<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int n, int channels, int spatial, bool batchStatistics,
        ReadOnlySpan<T> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd, Span<T> dgamma, Span<T> dbeta, Span<T> dx,
        ReadOnlySpan<T> reluBeta, ReadOnlySpan<int> argmax, int pooledSpatial)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = n * channels * spatial;
        CheckLengths(nameof(Backward), length, x.Length, dx.Length);
        if (argmax.IsEmpty) CheckLengths(nameof(Backward), length, dy.Length);
        if (!reluBeta.IsEmpty) CheckLengths(nameof(Backward), channels, reluBeta.Length);
        CheckLengths(nameof(Backward), channels, gamma.Length, mean.Length, rstd.Length, dgamma.Length, dbeta.Length);
        fixed (T* pdy = dy, px = x, pdx = dx, pgamma = gamma, pdgamma = dgamma, pdbeta = dbeta, pbeta = reluBeta)
        fixed (double* pmean = mean, prstd = rstd)
        fixed (int* parg = argmax)
        {
            var job = Job<T>.ForThisThread;
            job.SetShape(n, channels, spatial, batchStatistics);
            job.Dy = pdy;
            job.ArgMax = parg;
            job.PooledS = argmax.IsEmpty ? 0 : pooledSpatial;
            job.Beta = pbeta;
            job.Relu = !reluBeta.IsEmpty;
            job.X = px;
            job.Dx = pdx;
            job.Gamma = pgamma;
            job.DGamma = pdgamma;
            job.DBeta = pdbeta;
            job.Mean = pmean;
            job.Rstd = prstd;
            job.Run(forward: false, length);
        }
    }

    /// <summary>Statistics (in training) and y of channel <paramref name="c"/>.</summary>
    private static void ForwardChannel<T>(Job<T> j, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = j.N, s = j.S, channels = j.C, m = n * s, length = n * channels * s;
        var x = new ReadOnlySpan<T>(j.X, length);
        var y = new Span<T>(j.Y, length);
        double mean, variance;
        if (j.BatchStatistics)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += double.CreateChecked(Elementwise.Sum(x.Slice((i * channels + c) * s, s)));
            mean = sum / m;
            // Two passes: σ² = mean((x − μ)²) does not cancel catastrophically, unlike E[x²] − μ².
            var deviation = new Elementwise.ShiftedSquareOperator<T>(T.CreateChecked(mean));
            double squares = 0;
            for (int i = 0; i < n; i++)
                squares += double.CreateChecked(ElementwiseDriver.Aggregate<T, Elementwise.ShiftedSquareOperator<T>, Elementwise.SumAggregation<T>>(
                    deviation, x.Slice((i * channels + c) * s, s)));
            variance = squares / m;
            j.Mean[c] = mean;
            j.Variance[c] = variance;
        }
        else
        {
            mean = j.Mean[c];
            variance = j.Variance[c];
        }
        double rstd = 1 / Math.Sqrt(variance + j.Eps);
        j.Rstd[c] = rstd;
        // y = (x − μ)·(γ·r) + β
        var normalize = new Elementwise.ShiftAffineOperator<T>(T.CreateChecked(mean), T.CreateChecked(double.CreateChecked(j.Gamma[c]) * rstd), j.Beta[c]);
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            ElementwiseDriver.Unary(normalize, x.Slice(at, s), y.Slice(at, s));
            if (j.Relu) Elementwise.ReluForward<T>(y.Slice(at, s), y.Slice(at, s)); // y = max(0, y)
        }
    }

    /// <summary>dγ[c], dβ[c] and dx of channel <paramref name="c"/>.</summary>
    private static void BackwardChannel<T>(Job<T> j, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = j.N, s = j.S, channels = j.C, m = n * s, length = n * channels * s;
        var x = new ReadOnlySpan<T>(j.X, length);
        var dx = new Span<T>(j.Dx, length);
        bool unpool = j.ArgMax != null;
        int ps = j.PooledS;
        var dy = new ReadOnlySpan<T>(j.Dy, unpool ? n * channels * ps : length);
        bool relu = j.Relu;
        double rstd = j.Rstd[c], sumDy = 0, sumDyDeviation = 0;
        var deviation = new Elementwise.SubtractMultiplyOperator<T>(T.CreateChecked(j.Mean[c]));
        // The forward's y = (x − μ)·(γ·r) + β, with its constants: z > 0 exactly where this is > 0.
        var mask = relu
            ? new Elementwise.ReluOfShiftAffineBackwardOperator<T>(T.CreateChecked(j.Mean[c]), T.CreateChecked(double.CreateChecked(j.Gamma[c]) * rstd), j.Beta[c])
            : default;
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            ReadOnlySpan<T> g = unpool ? default : dy.Slice(at, s);
            if (unpool)
            {
                // The max pooling's backward for this slice, into dx: zero, then dx[a] += dy for each pooled output.
                var slice = dx.Slice(at, s);
                int pat = (i * channels + c) * ps;
                PoolKernels.MaxPlaneBackward<T>(dy.Slice(pat, ps), new ReadOnlySpan<int>(j.ArgMax + pat, ps), slice);
                g = slice;
            }
            if (relu)
            {
                // dy ⊙ [z > 0], the ReLU's backward, into dx: from here on dx holds the gradient at this layer's output.
                ElementwiseDriver.Binary(mask, x.Slice(at, s), g, dx.Slice(at, s));
                g = dx.Slice(at, s);
            }
            sumDy += double.CreateChecked(Elementwise.Sum(g));
            sumDyDeviation += double.CreateChecked(ElementwiseDriver.Aggregate<T, Elementwise.SubtractMultiplyOperator<T>, Elementwise.SumAggregation<T>>(
                deviation, x.Slice(at, s), g));
        }
        if (relu || unpool) dy = dx;
        double sumDyXhat = sumDyDeviation * rstd; // Σ dy·x̂ = r·Σ dy·(x − μ)
        j.DBeta[c] += T.CreateChecked(sumDy);
        j.DGamma[c] += T.CreateChecked(sumDyXhat);
        // dx = a·dy + b·x̂ + k3 with a = γ·r, and in training b = −a·Σdy·x̂/m, k3 = −a·Σdy/m (else 0); b·x̂ = (b·r)·(x − μ).
        double k1 = double.CreateChecked(j.Gamma[c]) * rstd;
        T a = T.CreateChecked(k1);
        var gradient = new Elementwise.ShiftedCombinationOperator<T>(a, T.CreateChecked(-k1 * sumDyXhat / m * rstd),
            T.CreateChecked(j.Mean[c]), T.CreateChecked(-k1 * sumDy / m));
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            if (j.BatchStatistics) ElementwiseDriver.Binary(gradient, dy.Slice(at, s), x.Slice(at, s), dx.Slice(at, s));
            else Elementwise.Multiply(dy.Slice(at, s), a, dx.Slice(at, s));
        }
    }

    private static void CheckLengths(string operation, int expected, params ReadOnlySpan<int> lengths)
    {
        foreach (int length in lengths)
        {
            if (length != expected)
                throw new ShapeMismatchException($"BatchNormKernels.{operation}: a span of {length} elements where {expected} were expected.");
        }
    }

    /// <summary>One call's pointers and sizes, shared by the threads that run its channel blocks; one per calling thread.</summary>
    private sealed class Job<T> : PlaneBlocks where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static Job<T>? t_job;

        private bool _forward;

        public static Job<T> ForThisThread => t_job ??= new Job<T>();

        public int N, C, S;
        public bool BatchStatistics, Relu;
        public double Eps;
        public T* X, Y, Gamma, Beta, Dy, Dx, DGamma, DBeta;
        public double* Mean, Variance, Rstd;
        public int* ArgMax;   // BackwardUnpooled: the pooling's winners, else null
        public int PooledS;   // BackwardUnpooled: pooled values per slice

        public void SetShape(int n, int c, int s, bool batchStatistics) => (N, C, S, BatchStatistics) = (n, c, s, batchStatistics);

        public void Run(bool forward, int elements)
        {
            _forward = forward;
            Run(C, elements);
        }

        protected override void Execute(int first, int count)
        {
            for (int c = first; c < first + count; c++)
            {
                if (_forward) ForwardChannel(this, c);
                else BackwardChannel(this, c);
            }
        }
    }
}
