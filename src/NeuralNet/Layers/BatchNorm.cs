using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralNet.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy, 2015), shared by <see cref="BatchNorm1d{T}"/> and <see cref="BatchNorm2d{T}"/>:
/// y = (x − E[x]) / √(Var[x] + ε) · γ + β, per channel, over the batch and every spatial position.
/// </summary>
/// <remarks>
/// The input is viewed as (N, C, S): channel c's m = N·S values are x[n, c, s] (S = 1 for (N, C), S = H·W for images).
/// <para>Training: μ = (1/m)·Σ x, σ² = (1/m)·Σ (x − μ)² (biased), x̂ = (x − μ)·r with r = 1/√(σ² + ε), y = γ·x̂ + β,
/// and the buffers follow PyTorch: running_mean ← (1 − momentum)·running_mean + momentum·μ,
/// running_var ← (1 − momentum)·running_var + momentum·σ²·m/(m − 1) (unbiased).
/// Evaluation: μ and σ² are the running statistics, so y is a fixed affine map of x.</para>
/// <para>Backward, per channel (sums over the channel's m values). dγ and dβ come from y = γ·x̂ + β as in Linear;
/// in training x̂ also depends on every x through μ and σ². With dx̂ = dy·γ, ∂μ/∂x = 1/m and ∂σ²/∂x = 2(x − μ)/m:</para>
/// <code>
///   dβ += Σ dy            dγ += Σ dy·x̂
///   dx  = r·(dx̂ − (1/m)·Σ dx̂ − x̂·(1/m)·Σ dx̂·x̂)        (training)
///       = γ·r·(dy − Σ dy / m − x̂·Σ dy·x̂ / m)          (γ is constant per channel)
///   dx  = γ·r·dy                                       (evaluation: μ, σ² are constants)
/// </code>
/// The two sums are the ones dβ and dγ need, so backward reads dy and x̂ twice and writes dx once.
/// Forward saves x̂ (x's shape) and r per channel. Channels are independent and run in parallel, each by one thread.
/// <para>Not implemented: affine = False, track_running_stats = False, momentum = None (cumulative average), and
/// PyTorch's num_batches_tracked buffer (only used when momentum is None).</para>
/// </remarks>
public abstract class BatchNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ChannelWork _work;
    private readonly double[] _rstd;
    private Tensor<T>? _input;
    private Tensor<T>? _xhat;
    private Tensor<T>? _output;
    private Tensor<T>? _gradOutput;
    private Tensor<T>? _gradInput;
    private int _n, _s;
    private bool _batchStatistics;

    /// <summary>Creates γ = 1, β = 0, running_mean = 0, running_var = 1.</summary>
    private protected BatchNorm(int numFeatures, double eps, double momentum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{Name}: eps must be positive.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{Name}: momentum must be in [0, 1].");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = new Parameter<T>(new Tensor<T>(numFeatures));
        Bias = new Parameter<T>(new Tensor<T>(numFeatures));
        RunningMean = new Tensor<T>(numFeatures);
        RunningVar = new Tensor<T>(numFeatures);
        _rstd = new double[numFeatures];
        _work = new ChannelWork(this);
        ResetParameters();
    }

    /// <summary>C: the number of channels (features).</summary>
    public int NumFeatures { get; }

    /// <summary>ε, added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The weight of the newest batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>γ, shape (C), initialized to 1.</summary>
    public Parameter<T> Weight { get; }

    /// <summary>β, shape (C), initialized to 0.</summary>
    public Parameter<T> Bias { get; }

    /// <summary>The running mean (C), a buffer ("running_mean"): used in evaluation mode, saved in checkpoints.</summary>
    public Tensor<T> RunningMean { get; }

    /// <summary>The running unbiased variance (C), a buffer ("running_var").</summary>
    public Tensor<T> RunningVar { get; }

    private string Name => GetType().Name.Split('`')[0];

    /// <summary>Sets running_mean = 0 and running_var = 1.</summary>
    public void ResetRunningStats()
    {
        RunningMean.Fill(T.Zero);
        RunningVar.Fill(T.One);
    }

    /// <summary>Resets the running statistics and sets γ = 1, β = 0.</summary>
    public void ResetParameters()
    {
        ResetRunningStats();
        Weight.Value.Fill(T.One);
        Bias.Value.Fill(T.Zero);
    }

    protected override IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters()
    {
        yield return ("weight", Weight);
        yield return ("bias", Bias);
    }

    protected override IEnumerable<(string Name, Tensor<T> Buffer)> LocalBuffers()
    {
        yield return ("running_mean", RunningMean);
        yield return ("running_var", RunningVar);
    }

    /// <summary>Checks the input's shape and returns S, the positions per sample and channel.</summary>
    private protected abstract int SpatialSize(Tensor<T> input);

    /// <summary>Normalizes <paramref name="input"/> (batch statistics in training, running ones in evaluation); same shape out.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _s = SpatialSize(input);
        _n = input.Shape[0];
        _batchStatistics = IsTraining;
        if (_batchStatistics && _n * _s < 2)
            throw new ShapeMismatchException($"{Name}.Forward: expected more than 1 value per channel when training, got input {input.Shape}.");
        _input = input;
        Reuse(ref _xhat, input.Shape);
        var y = Reuse(ref _output, input.Shape);
        _work.Run(forward: true, NumFeatures, input.Length);
        return y;
    }

    /// <summary>Accumulates dγ, dβ and returns dx (the input's shape), overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        _gradOutput = gradOutput;
        _work.Run(forward: false, NumFeatures, gradOutput.Length);
        _gradOutput = null;
        return dx;
    }

    /// <summary>Statistics, x̂ and y for channel <paramref name="c"/>; in training also its running statistics.</summary>
    private void ForwardChannel(int c)
    {
        int n = _n, s = _s, channels = NumFeatures, m = n * s;
        ReadOnlySpan<T> x = _input!.ReadOnlySpan;
        Span<T> xhat = _xhat!.Span, y = _output!.Span;
        double mean, variance;
        if (_batchStatistics)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += double.CreateChecked(TensorPrimitives.Sum(x.Slice((i * channels + c) * s, s)));
            mean = sum / m;
            // Two passes: σ² = mean((x − μ)²) does not cancel catastrophically, unlike E[x²] − μ².
            T mu = T.CreateChecked(mean);
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                int at = (i * channels + c) * s;
                Span<T> d = xhat.Slice(at, s);
                TensorPrimitives.Subtract(x.Slice(at, s), mu, d);
                squares += double.CreateChecked(TensorPrimitives.SumOfSquares<T>(d));
            }
            variance = squares / m;
            double mo = Momentum;
            RunningMean[c] = T.CreateChecked((1 - mo) * double.CreateChecked(RunningMean[c]) + mo * mean);
            RunningVar[c] = T.CreateChecked((1 - mo) * double.CreateChecked(RunningVar[c]) + mo * variance * m / (m - 1));
        }
        else
        {
            mean = double.CreateChecked(RunningMean[c]);
            variance = double.CreateChecked(RunningVar[c]);
        }
        double rstd = 1 / Math.Sqrt(variance + Eps);
        _rstd[c] = rstd;
        T r = T.CreateChecked(rstd), muT = T.CreateChecked(mean), gamma = Weight.Value[c], beta = Bias.Value[c];
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            Span<T> xh = xhat.Slice(at, s);
            if (_batchStatistics) TensorPrimitives.Multiply(xh, r, xh);   // xh held x − μ
            else
            {
                TensorPrimitives.Subtract(x.Slice(at, s), muT, xh);
                TensorPrimitives.Multiply(xh, r, xh);
            }
            Span<T> ys = y.Slice(at, s);
            TensorPrimitives.Multiply<T>(xh, gamma, ys); // y = γ·x̂ + β
            TensorPrimitives.Add<T>(ys, beta, ys);
        }
    }

    /// <summary>dγ[c], dβ[c] and dx for channel <paramref name="c"/>.</summary>
    private void BackwardChannel(int c)
    {
        int n = _n, s = _s, channels = NumFeatures, m = n * s;
        ReadOnlySpan<T> dy = _gradOutput!.ReadOnlySpan, xhat = _xhat!.ReadOnlySpan;
        Span<T> dx = _gradInput!.Span;
        double sumDy = 0, sumDyXhat = 0;
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            sumDy += double.CreateChecked(TensorPrimitives.Sum(dy.Slice(at, s)));
            sumDyXhat += double.CreateChecked(TensorPrimitives.Dot(dy.Slice(at, s), xhat.Slice(at, s)));
        }
        Bias.Grad[c] += T.CreateChecked(sumDy);
        Weight.Grad[c] += T.CreateChecked(sumDyXhat);
        // dx = a·dy + b·x̂ + k3 with a = γ·r, and in training b = −a·Σdy·x̂/m, k3 = −a·Σdy/m (else 0).
        double k1 = double.CreateChecked(Weight.Value[c]) * _rstd[c];
        T a = T.CreateChecked(k1);
        T b = _batchStatistics ? T.CreateChecked(-k1 * sumDyXhat / m) : T.Zero;
        T k3 = _batchStatistics ? T.CreateChecked(-k1 * sumDy / m) : T.Zero;
        for (int i = 0; i < n; i++)
        {
            int at = (i * channels + c) * s;
            Span<T> d = dx.Slice(at, s);
            TensorPrimitives.Multiply(dy.Slice(at, s), a, d);
            if (!_batchStatistics) continue;
            TensorPrimitives.MultiplyAdd<T>(xhat.Slice(at, s), b, d, d);
            TensorPrimitives.Add<T>(d, k3, d);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}({NumFeatures}, eps={Eps.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant()}, momentum={Momentum:R}, affine=True, track_running_stats=True)");

    /// <summary>Runs channels in parallel blocks; allocated once per layer.</summary>
    private sealed class ChannelWork(BatchNorm<T> owner) : PlaneBlocks
    {
        private bool _forward;

        public void Run(bool forward, int channels, int elements)
        {
            _forward = forward;
            Run(channels, elements);
        }

        protected override void Execute(int first, int count)
        {
            for (int c = first; c < first + count; c++)
            {
                if (_forward) owner.ForwardChannel(c);
                else owner.BackwardChannel(c);
            }
        }
    }
}
