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
/// <para>Forward, per sample n, as one GEMM (K = C·k·k, P = Ho·Wo; see <see cref="TensorOps.Conv2dForward{T}"/>):</para>
/// <code>
///   cols = im2col(x[n])       (K, P)       cols[(c,i,j), (oh,ow)] = x[n, c, oh·s − p + i, ow·s − p + j]
///   y[n] = W·cols + b          (O, K)·(K, P) → (O, P), b broadcast along P
/// </code>
/// <para>Backward: y[n] is linear in W and in cols, exactly as Linear is in W and x, so with G = dy[n] (O, P):</para>
/// <code>
///   dW   += G·colsᵀ            (O, P)·(P, K)   summed over n
///   db   += Σ_p G              (O)
///   dcols = Wᵀ·G               (K, O)·(O, P)
///   dx[n] = col2im(dcols)      each pixel collects the dcols entries it was copied to (Σ over overlapping windows)
/// </code>
/// <para>For stride 1 and "same" padding the last two lines are one convolution: dx[n,c,h,w] = Σ_o,i,j W[o,c,i,j]·G[o, h + p − i, w + p − j],
/// the gradient padded by k − 1 − p and convolved with the kernel turned 180° (in and out channels swapped). The
/// kernels never form cols: they pack image patches straight into the matrix-multiply panels, and the batch is split
/// into fixed chunks, so results depend on N only, never on the thread count.</para>
/// <para>Initialization (PyTorch's): W ~ U(−1/√fan_in, 1/√fan_in), fan_in = C·k·k (kaiming_uniform with a = √5);
/// b from the same distribution, or b = 0 when an initializer is given (as <see cref="Linear{T}"/>).</para>
/// </remarks>
/// <example><code>
/// var conv = new Conv2d&lt;float&gt;(1, 32, kernelSize: 3, padding: 1);   // (N, 1, 28, 28) → (N, 32, 28, 28)
/// </code></example>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Conv2dWorkspace<T> _workspace; // geometry, index tables, padded input, partial gradients
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;
    private Tensor<T>? _zeroGradInput;

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
        _workspace = new Conv2dWorkspace<T>(inChannels, outChannels, kernelSize, stride, padding);
        ResetParameters(rng ?? NeuralNet.Init.Init.DefaultRng, biasUniform: init is null);
    }

    /// <summary>C: the input's channels (its dimension 1).</summary>
    public int InChannels { get; }

    /// <summary>O: the output's channels, one k×k×C kernel each.</summary>
    public int OutChannels { get; }

    /// <summary>k: the kernel is k×k.</summary>
    public int KernelSize { get; }

    /// <summary>s: the step between neighbouring windows, in pixels, both directions (≥ 1, default 1).</summary>
    public int Stride { get; }

    /// <summary>Zeros added on every side of the image.</summary>
    public int Padding { get; }

    /// <summary>
    /// When false, Backward skips dcols = Wᵀ·dy and col2im (half of the backward work) and returns zeros: for a first
    /// layer, whose input is data. Default true.
    /// </summary>
    public bool ComputeInputGradient { get; set; } = true;

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

    /// <summary>"weight" (W), then "bias" (b) when the layer has one.</summary>
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
        int oh = _workspace.OutputSize(h), ow = _workspace.OutputSize(w);
        if (oh < 1 || ow < 1) ThrowTooSmall(input.Shape);
        _input = input;
        var y = Nchw.Matches(_output, n, OutChannels, oh, ow) ? _output : Reuse(ref _output, new Shape(n, OutChannels, oh, ow));
        // y[n] = W·im2col(x[n]) + b
        TensorOps.Conv2dForward(_workspace, input, Weight.Value, Bias?.Value, y);
        return y;
    }

    /// <summary>dW += Σₙ dy[n]·cols(x[n])ᵀ, db += Σ dy; returns dx = col2im(Wᵀ·dy) (N, C, H, W) (zeros when <see cref="ComputeInputGradient"/> is false), overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var x = _input!;
        // dW += Σₙ G·colsᵀ   db += Σ G   dx = col2im(Wᵀ·G) (skipped for a first layer)
        var dx = ComputeInputGradient ? Reuse(ref _gradInput, x.Shape) : null;
        TensorOps.Conv2dBackward(_workspace, gradOutput, Weight.Value, Weight.Grad, Bias?.Grad, dx);
        return dx ?? UnrequestedGradient(ref _zeroGradInput, x.Shape);
    }

    [DoesNotReturn]
    private void ThrowInputMismatch(Shape input) =>
        throw new ShapeMismatchException($"Conv2d.Forward: input {input} does not match weight {Weight.Shape}: expected (N, {InChannels}, H, W).");

    [DoesNotReturn]
    private void ThrowTooSmall(Shape input) =>
        throw new ShapeMismatchException(string.Create(CultureInfo.InvariantCulture,
            $"Conv2d.Forward: input {input} padded by {Padding} is smaller than the {KernelSize}×{KernelSize} kernel of weight {Weight.Shape}."));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Conv2d({InChannels}, {OutChannels}, kernel_size=({KernelSize}, {KernelSize}), stride=({Stride}, {Stride}), padding=({Padding}, {Padding}), bias={(Bias is not null ? "True" : "False")})");

}
