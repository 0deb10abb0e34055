using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// 2-D average pooling over NCHW images: y[n,c,oh,ow] = (1/k²)·Σ_{0≤i,j&lt;k} x[n, c, oh·s + i, ow·s + j].
/// </summary>
/// <remarks>
/// Args: window k, stride s (default k); no padding, floor mode. Shapes: x (N, C, H, W), y (N, C, Ho, Wo),
/// Ho = (H − k)/s + 1, Wo likewise.
/// <para>Backward: ∂y[oh,ow]/∂x[oh·s + i, ow·s + j] = 1/k² inside the window, so each output spreads its gradient evenly:</para>
/// <code>
///   dx[n,c, oh·s + i, ow·s + j] += dy[n,c,oh,ow] / k²    for 0 ≤ i, j &lt; k
/// </code>
/// Nothing is saved but the shapes. Planes (n, c) run in parallel.
/// </remarks>
public sealed class AvgPool2d<T> : Pool2d<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer; <paramref name="stride"/> defaults to <paramref name="kernelSize"/>.</summary>
    public AvgPool2d(int kernelSize, int? stride = null) : base(kernelSize, stride) { }

    private protected override void Pool(Tensor<T> x, Tensor<T> y)
    {
        // y[n,c,oh,ow] = (1/k²)·Σᵢⱼ x[n, c, oh·s + i, ow·s + j]
        TensorOps.AvgPool2d(x, KernelSize, Stride, y);
    }

    private protected override void Unpool(Tensor<T> dy, Tensor<T> dx)
    {
        // dx = 0, then dx[n, c, oh·s + i, ow·s + j] += dy[n,c,oh,ow] / k²
        TensorOps.AvgPool2dBackward(dy, KernelSize, Stride, dx);
    }
}
