using System.Numerics;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

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

    private protected override void ForwardPlanes(int first, int count)
    {
        int k = KernelSize, s = Stride, inPlane = _h * _w, outPlane = _oh * _ow;
        T scale = T.One / T.CreateChecked(k * k);
        ReadOnlySpan<T> xAll = _input!.ReadOnlySpan;
        Span<T> yAll = _output!.Span;
        for (int plane = first; plane < first + count; plane++)
        {
            ReadOnlySpan<T> x = xAll.Slice(plane * inPlane, inPlane);
            Span<T> y = yAll.Slice(plane * outPlane, outPlane);
            for (int oh = 0; oh < _oh; oh++)
            {
                for (int ow = 0; ow < _ow; ow++)
                {
                    int top = oh * s * _w + ow * s;
                    T sum = T.Zero;
                    for (int i = 0; i < k; i++)
                    {
                        int row = top + i * _w;
                        for (int j = 0; j < k; j++) sum += x[row + j];
                    }
                    y[oh * _ow + ow] = sum * scale;
                }
            }
        }
    }

    private protected override void BackwardPlanes(int first, int count)
    {
        int k = KernelSize, s = Stride, inPlane = _h * _w, outPlane = _oh * _ow;
        T scale = T.One / T.CreateChecked(k * k);
        ReadOnlySpan<T> dyAll = _gradOutput!.ReadOnlySpan;
        Span<T> dxAll = _gradInput!.Span;
        for (int plane = first; plane < first + count; plane++)
        {
            ReadOnlySpan<T> dy = dyAll.Slice(plane * outPlane, outPlane);
            Span<T> dx = dxAll.Slice(plane * inPlane, inPlane);
            dx.Clear();
            for (int oh = 0; oh < _oh; oh++)
            {
                for (int ow = 0; ow < _ow; ow++)
                {
                    int top = oh * s * _w + ow * s;
                    T g = dy[oh * _ow + ow] * scale;
                    for (int i = 0; i < k; i++)
                    {
                        int row = top + i * _w;
                        for (int j = 0; j < k; j++) dx[row + j] += g;
                    }
                }
            }
        }
    }
}
