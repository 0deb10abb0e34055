using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// 2-D max pooling over NCHW images: y[n,c,oh,ow] = max_{0≤i,j&lt;k} x[n, c, oh·s + i, ow·s + j].
/// </summary>
/// <remarks>
/// Args: window k, stride s (default k: non-overlapping windows); no padding, floor mode. Shapes: x (N, C, H, W),
/// y (N, C, Ho, Wo), Ho = (H − k)/s + 1, Wo likewise.
/// <para>Backward: y is x at one position a(n,c,oh,ow) (the arg-max), so ∂y/∂x is 1 there and 0 elsewhere:</para>
/// <code>
///   dx[n,c, a] += dy[n,c,oh,ow]    for every output; all other dx are 0
/// </code>
/// Forward saves only the arg-max indices (int per output), never x. Ties go to the first maximum in row-major
/// window order (strict &gt;); a NaN wins its window, as in PyTorch. With s &lt; k windows overlap and an input may collect
/// several outputs' gradients, hence +=.
/// <para>Planes (n, c) are independent, so they run in parallel; each output is computed by one thread.</para>
/// </remarks>
public sealed class MaxPool2d<T> : Pool2d<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[] _argmax = []; // per output: the flat index of the maximum within its input plane

    /// <summary>Creates the layer; <paramref name="stride"/> defaults to <paramref name="kernelSize"/>.</summary>
    public MaxPool2d(int kernelSize, int? stride = null) : base(kernelSize, stride) { }

    private protected override void Pool(Tensor<T> x, Tensor<T> y)
    {
        if (_argmax.Length < y.Length) _argmax = new int[y.Length];
        // y = max over each k×k window; a(n,c,oh,ow) = where it was.
        TensorOps.MaxPool2d(x, KernelSize, Stride, y, _argmax.AsSpan(0, y.Length));
    }

    /// <summary>The winners of the last forward pass's first <paramref name="outputs"/> outputs (flat indices in their input planes).</summary>
    internal ReadOnlySpan<int> ArgMax(int outputs) => _argmax.AsSpan(0, outputs);

    private protected override void Unpool(Tensor<T> dy, Tensor<T> dx)
    {
        // dx = 0, then dx[n,c, a] += dy[n,c,oh,ow].
        TensorOps.MaxPool2dBackward(dy, _argmax.AsSpan(0, dy.Length), KernelSize, Stride, dx);
    }
}
