using System.Numerics;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

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

    private protected override void PrepareForward(int outputLength)
    {
        if (_argmax.Length < outputLength) _argmax = new int[outputLength];
    }

    private protected override void ForwardPlanes(int first, int count)
    {
        int inPlane = _h * _w, outPlane = _oh * _ow;
        ReadOnlySpan<T> xAll = _input!.ReadOnlySpan;
        Span<T> yAll = _output!.Span;
        for (int plane = first; plane < first + count; plane++)
        {
            ReadOnlySpan<T> x = xAll.Slice(plane * inPlane, inPlane);
            Span<T> y = yAll.Slice(plane * outPlane, outPlane);
            Span<int> arg = _argmax.AsSpan(plane * outPlane, outPlane);
            // TensorPrimitives.Max is NaN when any element is: such (rare) planes take the exact NaN-aware loop.
            if (T.IsNaN(TensorPrimitives.Max(x))) PoolWithNaN(x, y, arg);
            else Pool(x, y, arg);
        }
    }

    /// <summary>
    /// One plane without NaNs. Which element wins is data-dependent, so a branch per element would mispredict half
    /// the time (measured 4× slower); the index is selected with an integer mask and the value with MaxNative.
    /// </summary>
    private void Pool(ReadOnlySpan<T> x, Span<T> y, Span<int> arg)
    {
        int k = KernelSize, s = Stride, w = _w, oh = _oh, ow = _ow;
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                int top = r * s * w + c * s, best = top;
                T max = x[top];
                for (int i = 0; i < k; i++)
                {
                    int row = top + i * w;
                    for (int j = 0; j < k; j++)
                    {
                        T v = x[row + j];
                        int take = -(v > max ? 1 : 0); // all ones when v is a new maximum: ties keep the first
                        best = (best & ~take) | ((row + j) & take);
                        max = T.MaxNative(max, v);
                    }
                }
                y[r * ow + c] = max;
                arg[r * ow + c] = best;
            }
        }
    }

    /// <summary>One plane that holds a NaN: a NaN wins its window (the last one, as PyTorch).</summary>
    private void PoolWithNaN(ReadOnlySpan<T> x, Span<T> y, Span<int> arg)
    {
        int k = KernelSize, s = Stride, w = _w, oh = _oh, ow = _ow;
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                int top = r * s * w + c * s, best = top;
                T max = x[top];
                for (int i = 0; i < k; i++)
                {
                    for (int j = 0; j < k; j++)
                    {
                        T v = x[top + i * w + j];
                        if (v > max || T.IsNaN(v)) (max, best) = (v, top + i * w + j);
                    }
                }
                y[r * ow + c] = max;
                arg[r * ow + c] = best;
            }
        }
    }

    private protected override void BackwardPlanes(int first, int count)
    {
        int inPlane = _h * _w, outPlane = _oh * _ow;
        ReadOnlySpan<T> dyAll = _gradOutput!.ReadOnlySpan;
        Span<T> dxAll = _gradInput!.Span;
        for (int plane = first; plane < first + count; plane++)
        {
            ReadOnlySpan<T> dy = dyAll.Slice(plane * outPlane, outPlane);
            ReadOnlySpan<int> arg = _argmax.AsSpan(plane * outPlane, outPlane);
            Span<T> dx = dxAll.Slice(plane * inPlane, inPlane);
            dx.Clear();
            for (int o = 0; o < outPlane; o++) dx[arg[o]] += dy[o];
        }
    }
}
