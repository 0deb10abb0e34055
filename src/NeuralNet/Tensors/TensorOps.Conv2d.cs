using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

/// <summary>
/// What a 2-D convolution keeps between calls: its geometry, index tables and workspaces (the zero-padded input of the
/// last forward pass, per-chunk partial gradients). One per convolution layer; not thread-safe.
/// </summary>
public sealed class Conv2dWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A workspace for a convolution with a square kernel, stride and zero padding.</summary>
    public Conv2dWorkspace(int inChannels, int outChannels, int kernelSize, int stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (InChannels, OutChannels, KernelSize, Stride, Padding) = (inChannels, outChannels, kernelSize, stride, padding);
        Kernel = new Conv2dKernel<T>(inChannels, outChannels, kernelSize, stride, padding);
    }

    /// <summary>C: the input's channels.</summary>
    public int InChannels { get; }

    /// <summary>O: the output's channels.</summary>
    public int OutChannels { get; }

    /// <summary>k: the kernel is k×k.</summary>
    public int KernelSize { get; }

    /// <summary>s: the step between neighbouring windows, in pixels (≥ 1).</summary>
    public int Stride { get; }

    /// <summary>p: zeros added on every side of the image (≥ 0).</summary>
    public int Padding { get; }

    internal Conv2dKernel<T> Kernel { get; }

    /// <summary>The output height or width for an input of <paramref name="size"/>: (size + 2p − k)/s + 1 (&lt; 1 when the kernel does not fit).</summary>
    public int OutputSize(int size) => Im2Col.OutputSize(size, KernelSize, Stride, Padding);
}

public static partial class TensorOps
{
    /// <summary>
    /// y (N, O, Ho, Wo) = conv2d(x (N, C, H, W), weight (O, C, k, k)) + bias (O): y[n,o] = b[o] + Σ_c,i,j W[o,c,i,j]·x[n,c,h·s−p+i,w·s−p+j].
    /// The caller checks the shapes; <paramref name="workspace"/> keeps the padded input for <see cref="Conv2dBackward"/>.
    /// </summary>
    public static void Conv2dForward<T>(Conv2dWorkspace<T> workspace, Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, Tensor<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        workspace.Kernel.Forward(x.ReadOnlySpan, x.Shape[0], x.Shape[2], x.Shape[3], weight.ReadOnlySpan,
            bias is null ? default : bias.ReadOnlySpan, y.Span);

    /// <summary>
    /// With G = ∂L/∂y (N, O, Ho, Wo) of the last <see cref="Conv2dForward"/>: weightGrad += Σₙ G[n]·cols(x[n])ᵀ,
    /// biasGrad += Σ G over n, h, w, and, when <paramref name="gradInput"/> is given, gradInput = ∂L/∂x (overwritten).
    /// </summary>
    public static void Conv2dBackward<T>(Conv2dWorkspace<T> workspace, Tensor<T> gradOutput, Tensor<T> weight, Tensor<T> weightGrad,
        Tensor<T>? biasGrad, Tensor<T>? gradInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        workspace.Kernel.Backward(gradOutput.ReadOnlySpan, weight.ReadOnlySpan, weightGrad.Span,
            biasGrad is null ? default : biasGrad.Span, gradInput is null ? default : gradInput.Span);
}
