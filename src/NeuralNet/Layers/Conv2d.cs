using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using NeuralNet.Init;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as every framework computes it) over NCHW images:
/// y[n,o,oh,ow] = b[o] + Σ_c Σ_i Σ_j W[o,c,i,j]·x[n, c, oh·s − p + i, ow·s − p + j], zero outside the image.
/// </summary>
/// <remarks>
/// Args: in/out channels C and O, square kernel k, stride s, zero padding p, bias. Shapes: x (N, C, H, W),
/// W (O, C, k, k), b (O), y (N, O, Ho, Wo) with Ho = (H + 2p − k)/s + 1 (floor), Wo likewise.
/// <para>Forward, per sample n, as one GEMM (K = C·k·k, P = Ho·Wo; see <see cref="TensorOps.Unfold"/>):</para>
/// <code>
///   cols = im2col(x[n])       (K, P)
///   y[n] = W·cols + b          (O, K)·(K, P) → (O, P), b broadcast along P
/// </code>
/// <para>Backward: y[n] is linear in W and in cols, exactly as Linear is in W and x, so with G = dy[n] (O, P):</para>
/// <code>
///   dW   += G·colsᵀ            (O, P)·(P, K)   summed over n
///   db   += Σ_p G              (O)
///   dcols = Wᵀ·G               (K, O)·(O, P)
///   dx[n] = col2im(dcols)      each pixel collects the dcols entries it was copied to (Σ over overlapping windows)
/// </code>
/// cols is recomputed in backward rather than saved for the whole batch (k²× the input): im2col costs about what reading a saved copy back from memory would.
/// <para>Threads: the batch is cut into at most 32 fixed chunks run by <see cref="TensorOps.RunParts"/>; each chunk
/// has its own cols scratch and its own dW, db partial sums, added into the gradients in chunk order, so results
/// depend on N only, never on the thread count. The per-sample GEMMs inside a chunk run single-threaded. On the
/// MNIST CNN (batch 128, float, 2 threads) a training step took 47 ms this way against 59 ms with one multithreaded
/// GEMM per sample (<see cref="ParallelOverBatch"/> = false): conv1's GEMMs (32·784·9 multiply-adds) are below
/// the GEMM's threading threshold, and im2col and col2im would stay serial.</para>
/// <para>Initialization (PyTorch's): W ~ U(−1/√fan_in, 1/√fan_in), fan_in = C·k·k (kaiming_uniform with a = √5);
/// b from the same distribution, or b = 0 when an initializer is given (as <see cref="Linear{T}"/>).</para>
/// </remarks>
/// <example><code>
/// var conv = new Conv2d&lt;float&gt;(1, 32, kernelSize: 3, padding: 1);   // (N, 1, 28, 28) → (N, 32, 28, 28)
/// </code></example>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The batch is split into at most this many chunks (fixed, so results do not depend on the thread count).</summary>
    private const int MaxChunks = 32;

    private readonly ChunkWork _work;
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;
    private Tensor<T>? _zeroGradInput;
    private Tensor<T>? _gradOutput;
    private T[] _cols = [];        // per chunk: (K, P)
    private T[] _weightGrads = []; // per chunk: (O, K)
    private T[] _biasGrads = [];   // per chunk: (O)
    private int _n, _h, _w, _oh, _ow, _chunk, _chunks;

    /// <summary>Creates the layer and initializes it from <paramref name="rng"/> (default: <see cref="Init.Init.DefaultRng"/>).</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        Initializer? init = null, Rng? rng = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Initializer = init ?? NeuralNet.Init.Init.LinearDefault;
        Weight = new Parameter<T>(new Tensor<T>(outChannels, inChannels, kernelSize, kernelSize));
        Bias = bias ? new Parameter<T>(new Tensor<T>(outChannels)) : null;
        _work = new ChunkWork(this);
        ResetParameters(rng ?? NeuralNet.Init.Init.DefaultRng, biasUniform: init is null);
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    /// <summary>k: the kernel is k×k.</summary>
    public int KernelSize { get; }

    public int Stride { get; }

    /// <summary>Zeros added on every side of the image.</summary>
    public int Padding { get; }

    /// <summary>
    /// When false, Backward skips dcols = Wᵀ·dy and col2im (half of the backward work) and returns zeros: for a first
    /// layer, whose input is data. Default true.
    /// </summary>
    public bool ComputeInputGradient { get; set; } = true;

    /// <summary>
    /// True (the default): chunks of the batch run in parallel, each with single-threaded GEMMs. False: one sample at a
    /// time on the calling thread, each GEMM multithreaded by the GEMM kernel itself. Both give identical results;
    /// the switch exists to measure which is faster.
    /// </summary>
    internal static bool ParallelOverBatch { get; set; } = true;

    /// <summary>The scheme used for the weight.</summary>
    public Initializer Initializer { get; }

    /// <summary>W, shape (out, in, k, k).</summary>
    public Parameter<T> Weight { get; }

    /// <summary>b, shape (out), or null for a layer built with bias: false.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>K = C·k·k: the length of one receptive field, and the fan-in.</summary>
    private int FieldSize => InChannels * KernelSize * KernelSize;

    /// <summary>True for a 1×1, stride-1, unpadded kernel, whose cols is the image itself.</summary>
    private bool IsPointwise => KernelSize == 1 && Stride == 1 && Padding == 0;

    /// <summary>Draws new weights (and bias) from <paramref name="rng"/>.</summary>
    public void ResetParameters(Rng rng, bool biasUniform = false)
    {
        int fanIn = FieldSize, fanOut = OutChannels * KernelSize * KernelSize;
        Initializer.Fill(Weight.Value, fanIn, fanOut, rng);
        if (Bias is null) return;
        if (biasUniform) NeuralNet.Init.Init.LinearDefault.Fill(Bias.Value, fanIn, fanOut, rng);
        else Bias.Value.Span.Clear();
    }

    protected override IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }

    /// <summary>(N, C, H, W) → (N, O, Ho, Wo). The returned tensor is overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank != 4 || input.Shape[1] != InChannels) ThrowInputMismatch(input.Shape);
        int n = input.Shape[0], h = input.Shape[2], w = input.Shape[3];
        int oh = TensorOps.ConvOutputSize(h, KernelSize, Stride, Padding), ow = TensorOps.ConvOutputSize(w, KernelSize, Stride, Padding);
        if (oh < 1 || ow < 1) ThrowTooSmall(input.Shape);
        _input = input;
        Prepare(n, h, w, oh, ow);
        var y = Nchw.Matches(_output, n, OutChannels, oh, ow) ? _output : Reuse(ref _output, new Shape(n, OutChannels, oh, ow));
        Run(forward: true);
        return y;
    }

    /// <summary>Accumulates dW, db and returns dx (N, C, H, W), overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var x = _input!;
        var dx = ComputeInputGradient ? Reuse(ref _gradInput, x.Shape) : UnrequestedGradient(ref _zeroGradInput, x.Shape);
        _gradOutput = gradOutput;
        Run(forward: false);
        _gradOutput = null;
        // Partial sums in chunk order: dW += Σ_chunks dW_chunk, db += Σ_chunks db_chunk.
        int wLen = OutChannels * FieldSize;
        Span<T> dw = Weight.Grad.Span;
        for (int c = 0; c < _chunks; c++) TensorOps.Add(dw, _weightGrads.AsSpan(c * wLen, wLen), dw);
        if (Bias is not null)
        {
            Span<T> db = Bias.Grad.Span;
            for (int c = 0; c < _chunks; c++) TensorOps.Add(db, _biasGrads.AsSpan(c * OutChannels, OutChannels), db);
        }
        return dx;
    }

    /// <summary>Sizes the chunks and their scratch; allocates only when the shapes grow.</summary>
    private void Prepare(int n, int h, int w, int oh, int ow)
    {
        (_n, _h, _w, _oh, _ow) = (n, h, w, oh, ow);
        _chunk = Math.Max(1, (n + MaxChunks - 1) / MaxChunks);
        _chunks = (n + _chunk - 1) / _chunk;
        int colsLen = IsPointwise ? 0 : FieldSize * oh * ow;
        Grow(ref _cols, _chunks * colsLen);
        Grow(ref _weightGrads, _chunks * OutChannels * FieldSize);
        if (Bias is not null) Grow(ref _biasGrads, _chunks * OutChannels);

        static void Grow(ref T[] buffer, int length)
        {
            if (buffer.Length < length) buffer = new T[length];
        }
    }

    private void Run(bool forward)
    {
        _work.Forward = forward;
        if (ParallelOverBatch) TensorOps.RunParts(_work, _chunks);
        else
        {
            for (int c = 0; c < _chunks; c++) _work.Execute(c);
        }
    }

    /// <summary>y[n] = W·im2col(x[n]) + b for the samples of one chunk.</summary>
    private void ForwardChunk(int chunk)
    {
        int o = OutChannels, k = FieldSize, p = _oh * _ow, inLen = InChannels * _h * _w;
        ReadOnlySpan<T> x = _input!.ReadOnlySpan, weight = Weight.Value.ReadOnlySpan;
        Span<T> y = _output!.Span;
        int colsLen = IsPointwise ? 0 : k * p;
        Span<T> cols = _cols.AsSpan(chunk * colsLen, colsLen);
        int end = Math.Min(_n, (chunk + 1) * _chunk);
        for (int n = chunk * _chunk; n < end; n++)
        {
            // cols = im2col(x[n]) (K, P); a 1×1 kernel's cols is x[n] itself.
            ReadOnlySpan<T> xn = x.Slice(n * inLen, inLen);
            ReadOnlySpan<T> c = xn;
            if (!IsPointwise)
            {
                TensorOps.Unfold(xn, InChannels, _h, _w, KernelSize, Stride, Padding, cols);
                c = cols;
            }
            // y[n] = W·cols + b   (O, K)·(K, P) → (O, P): y[n] ← b along P, then y[n] += W·cols.
            Span<T> yn = y.Slice(n * o * p, o * p);
            if (Bias is not null) TensorOps.BroadcastColumns(Bias.Value.ReadOnlySpan, yn);
            TensorOps.MatMul(weight, c, yn, o, p, k, accumulate: Bias is not null);
        }
    }

    /// <summary>This chunk's dW, db partial sums and dx[n] for its samples.</summary>
    private void BackwardChunk(int chunk)
    {
        int o = OutChannels, k = FieldSize, p = _oh * _ow, inLen = InChannels * _h * _w;
        ReadOnlySpan<T> x = _input!.ReadOnlySpan, weight = Weight.Value.ReadOnlySpan, dy = _gradOutput!.ReadOnlySpan;
        Span<T> dx = ComputeInputGradient ? _gradInput!.Span : default;
        int colsLen = IsPointwise ? 0 : k * p;
        Span<T> cols = _cols.AsSpan(chunk * colsLen, colsLen);
        Span<T> dw = _weightGrads.AsSpan(chunk * o * k, o * k);
        Span<T> db = Bias is null ? default : _biasGrads.AsSpan(chunk * o, o);
        int start = chunk * _chunk, end = Math.Min(_n, start + _chunk);
        for (int n = start; n < end; n++)
        {
            ReadOnlySpan<T> xn = x.Slice(n * inLen, inLen);
            ReadOnlySpan<T> c = xn;
            if (!IsPointwise)
            {
                TensorOps.Unfold(xn, InChannels, _h, _w, KernelSize, Stride, Padding, cols);
                c = cols;
            }
            ReadOnlySpan<T> g = dy.Slice(n * o * p, o * p);
            bool first = n == start; // the first sample overwrites the partial sums
            // dW += G·colsᵀ   (O, P)·(P, K) → (O, K)
            TensorOps.MatMul(g, c, dw, o, k, p, transposeB: true, accumulate: !first);
            // db += Σ_p G     (O)
            if (Bias is not null)
            {
                if (first) db.Clear();
                TensorOps.AccumulateRowSums(g, db);
            }
            if (!ComputeInputGradient) continue;
            Span<T> dxn = dx.Slice(n * inLen, inLen);
            if (IsPointwise)
            {
                // dx[n] = Wᵀ·G   (C, O)·(O, P) → (C, P)
                TensorOps.MatMul(weight, g, dxn, k, p, o, transposeA: true);
                continue;
            }
            // dcols = Wᵀ·G   (K, O)·(O, P) → (K, P), into the cols scratch (no longer needed);
            // dx[n] = col2im(dcols): each pixel collects the entries it was copied to.
            TensorOps.MatMul(weight, g, cols, k, p, o, transposeA: true);
            dxn.Clear();
            TensorOps.Fold<T>(cols, InChannels, _h, _w, KernelSize, Stride, Padding, dxn);
        }
    }

    [DoesNotReturn]
    private void ThrowInputMismatch(Shape input) =>
        throw new ShapeMismatchException($"Conv2d.Forward: input {input} does not match weight {Weight.Shape}: expected (N, {InChannels}, H, W).");

    [DoesNotReturn]
    private void ThrowTooSmall(Shape input) =>
        throw new ShapeMismatchException(string.Create(CultureInfo.InvariantCulture,
            $"Conv2d.Forward: input {input} padded by {Padding} is smaller than the {KernelSize}×{KernelSize} kernel of weight {Weight.Shape}."));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Conv2d({InChannels}, {OutChannels}, kernel_size=({KernelSize}, {KernelSize}), stride=({Stride}, {Stride}), padding=({Padding}, {Padding}), bias={(Bias is not null ? "True" : "False")})");

    /// <summary>Runs one chunk of the batch; allocated once per layer so running the chunks allocates nothing.</summary>
    private sealed class ChunkWork(Conv2d<T> owner) : PartitionedWork
    {
        public bool Forward;

        public override void Execute(int part)
        {
            if (Forward) owner.ForwardChunk(part);
            else owner.BackwardChunk(part);
        }
    }
}
