using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// What max and average pooling share: k×k windows with stride s (default k), no padding, floor mode, over NCHW
/// images; x (N, C, H, W) → y (N, C, Ho, Wo), Ho = (H − k)/s + 1, Wo likewise. The (n, c) planes are independent, so
/// the kernels behind <see cref="TensorOps"/> run blocks of planes in parallel; a subclass says how one pools and un-pools.
/// </summary>
public abstract class Pool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    private protected Pool2d(int kernelSize, int? stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{LayerName}: stride must be at least 1.");
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
    }

    /// <summary>k: windows are k×k.</summary>
    public int KernelSize { get; }

    /// <summary>s: the step between neighbouring windows, in pixels (≥ 1; default k, windows that do not overlap).</summary>
    public int Stride { get; }

    private string LayerName => GetType().Name.Split('`')[0];

    /// <summary>The input of the last forward pass (for a fused backward that replaces this layer's).</summary>
    internal Tensor<T>? LastInput => _input;

    /// <summary>Throws unless <paramref name="gradOutput"/> has the shape of the last forward pass's output.</summary>
    internal void CheckGradient(Tensor<T> gradOutput) => CheckGradShape(_output, gradOutput);

    /// <summary>(N, C, H, W) → (N, C, Ho, Wo). The returned tensor is overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank != 4) throw new ShapeMismatchException($"{LayerName}.Forward: input {input.Shape} must be (N, C, H, W).");
        int n = input.Shape[0], c = input.Shape[1];
        int oh = TensorOps.ConvOutputSize(input.Shape[2], KernelSize, Stride, 0);
        int ow = TensorOps.ConvOutputSize(input.Shape[3], KernelSize, Stride, 0);
        if (oh < 1 || ow < 1) ThrowTooSmall(input.Shape);
        _input = input;
        var y = Nchw.Matches(_output, n, c, oh, ow) ? _output : Reuse(ref _output, new Shape(n, c, oh, ow));
        Pool(input, y);
        return y;
    }

    /// <summary>dx (N, C, H, W), overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, _input!.Shape);
        Unpool(gradOutput, dx);
        return dx;
    }

    /// <summary>y = pool(x), saving what <see cref="Unpool"/> needs.</summary>
    private protected abstract void Pool(Tensor<T> x, Tensor<T> y);

    /// <summary>dx from dy (dx is overwritten).</summary>
    private protected abstract void Unpool(Tensor<T> dy, Tensor<T> dx);

    [DoesNotReturn]
    private void ThrowTooSmall(Shape input) =>
        throw new ShapeMismatchException(string.Create(CultureInfo.InvariantCulture,
            $"{LayerName}.Forward: input {input} is smaller than the {KernelSize}×{KernelSize} window."));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{LayerName}(kernel_size={KernelSize}, stride={Stride}, padding=0)");
}
