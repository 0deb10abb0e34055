using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
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
public sealed class AvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PlaneWork _work;
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;
    private Tensor<T>? _gradOutput;
    private int _h, _w, _oh, _ow;

    /// <summary>Creates the layer; <paramref name="stride"/> defaults to <paramref name="kernelSize"/>.</summary>
    public AvgPool2d(int kernelSize, int? stride = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "AvgPool2d: stride must be at least 1.");
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        _work = new PlaneWork(this);
    }

    /// <summary>k: windows are k×k.</summary>
    public int KernelSize { get; }

    public int Stride { get; }

    /// <summary>(N, C, H, W) → (N, C, Ho, Wo). The returned tensor is overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank != 4) ThrowRank(input.Shape);
        int n = input.Shape[0], c = input.Shape[1];
        _h = input.Shape[2];
        _w = input.Shape[3];
        _oh = Im2Col.OutputSize(_h, KernelSize, Stride, 0);
        _ow = Im2Col.OutputSize(_w, KernelSize, Stride, 0);
        if (_oh < 1 || _ow < 1) ThrowTooSmall(input.Shape);
        _input = input;
        var y = Nchw.Matches(_output, n, c, _oh, _ow) ? _output : Reuse(ref _output, new Shape(n, c, _oh, _ow));
        _work.Run(forward: true, planes: n * c, elements: input.Length);
        return y;
    }

    /// <summary>dx (N, C, H, W): each dy spread evenly over its window; overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var x = _input!;
        Reuse(ref _gradInput, x.Shape);
        _gradOutput = gradOutput;
        _work.Run(forward: false, planes: x.Shape[0] * x.Shape[1], elements: x.Length);
        _gradOutput = null;
        return _gradInput!;
    }

    private void ForwardPlanes(int first, int count)
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

    private void BackwardPlanes(int first, int count)
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

    [DoesNotReturn]
    private static void ThrowRank(Shape input) =>
        throw new ShapeMismatchException($"AvgPool2d.Forward: input {input} must be (N, C, H, W).");

    [DoesNotReturn]
    private void ThrowTooSmall(Shape input) =>
        throw new ShapeMismatchException(string.Create(CultureInfo.InvariantCulture,
            $"AvgPool2d.Forward: input {input} is smaller than the {KernelSize}×{KernelSize} window."));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"AvgPool2d(kernel_size={KernelSize}, stride={Stride}, padding=0)");

    /// <summary>Splits the (n, c) planes into blocks run by <see cref="Parallelism"/>; allocated once per layer.</summary>
    private sealed class PlaneWork(AvgPool2d<T> owner) : PlaneBlocks
    {
        private bool _forward;

        public void Run(bool forward, int planes, int elements)
        {
            _forward = forward;
            Run(planes, elements);
        }

        protected override void Execute(int first, int count)
        {
            if (_forward) owner.ForwardPlanes(first, count);
            else owner.BackwardPlanes(first, count);
        }
    }
}
