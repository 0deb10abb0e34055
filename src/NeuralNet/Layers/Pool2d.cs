using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Layers;

/// <summary>
/// What max and average pooling share: k×k windows with stride s (default k), no padding, floor mode, over NCHW
/// images; x (N, C, H, W) → y (N, C, Ho, Wo), Ho = (H − k)/s + 1, Wo likewise. The (n, c) planes are independent, so
/// blocks of planes run in parallel; a subclass pools and un-pools planes [first, first + count).
/// </summary>
public abstract class Pool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PlaneWork _work;
    private protected Tensor<T>? _input;
    private protected Tensor<T>? _output;
    private protected Tensor<T>? _gradInput;
    private protected Tensor<T>? _gradOutput;
    private protected int _h, _w, _oh, _ow;

    private protected Pool2d(int kernelSize, int? stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{LayerName}: stride must be at least 1.");
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        _work = new PlaneWork(this);
    }

    /// <summary>k: windows are k×k.</summary>
    public int KernelSize { get; }

    public int Stride { get; }

    private string LayerName => GetType().Name.Split('`')[0];

    /// <summary>(N, C, H, W) → (N, C, Ho, Wo). The returned tensor is overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank != 4) throw new ShapeMismatchException($"{LayerName}.Forward: input {input.Shape} must be (N, C, H, W).");
        int n = input.Shape[0], c = input.Shape[1];
        _h = input.Shape[2];
        _w = input.Shape[3];
        _oh = Im2Col.OutputSize(_h, KernelSize, Stride, 0);
        _ow = Im2Col.OutputSize(_w, KernelSize, Stride, 0);
        if (_oh < 1 || _ow < 1) ThrowTooSmall(input.Shape);
        _input = input;
        var y = Nchw.Matches(_output, n, c, _oh, _ow) ? _output : Reuse(ref _output, new Shape(n, c, _oh, _ow));
        PrepareForward(y.Length);
        _work.Run(forward: true, planes: n * c, elements: input.Length);
        return y;
    }

    /// <summary>dx (N, C, H, W), overwritten by the next call.</summary>
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

    /// <summary>Called once the output is sized, before the planes run (max pooling sizes its arg-max store here).</summary>
    private protected virtual void PrepareForward(int outputLength) { }

    /// <summary>y for planes [first, first + count).</summary>
    private protected abstract void ForwardPlanes(int first, int count);

    /// <summary>dx for planes [first, first + count), from <c>_gradOutput</c>.</summary>
    private protected abstract void BackwardPlanes(int first, int count);

    [DoesNotReturn]
    private void ThrowTooSmall(Shape input) =>
        throw new ShapeMismatchException(string.Create(CultureInfo.InvariantCulture,
            $"{LayerName}.Forward: input {input} is smaller than the {KernelSize}×{KernelSize} window."));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{LayerName}(kernel_size={KernelSize}, stride={Stride}, padding=0)");

    /// <summary>Splits the (n, c) planes into blocks run by <see cref="Parallelism"/>; allocated once per layer.</summary>
    private sealed class PlaneWork(Pool2d<T> owner) : PlaneBlocks
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
