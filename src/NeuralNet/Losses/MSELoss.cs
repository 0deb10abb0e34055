using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Losses;

/// <summary>
/// Mean squared error: L = (1/M) Σᵢ (xᵢ − tᵢ)², M = number of elements (PyTorch's reduction="mean").
/// Backward: ∂L/∂xᵢ = 2(xᵢ − tᵢ)/M.
/// </summary>
public sealed class MSELoss<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _target;
    private Tensor<T>? _grad;

    /// <summary>L = (1/M)·Σᵢ (xᵢ − tᵢ)²; returns L. x, t: same shape, M elements.</summary>
    public override T Forward(Tensor<T> input, Tensor<T> target)
    {
        ShapeMismatchException.ThrowIfDifferent("MSELoss.Forward", input.Shape, target.Shape, "input", "target");
        _input = input;
        _target = target;
        ReadOnlySpan<T> x = input.ReadOnlySpan, t = target.ReadOnlySpan;
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = double.CreateChecked(x[i] - t[i]);
            sum += d * d;
        }
        return T.CreateChecked(sum / Math.Max(1, x.Length));
    }

    /// <summary>dxᵢ = 2(xᵢ − tᵢ)/M, x's shape.</summary>
    public override Tensor<T> Backward()
    {
        if (_input is null) throw new InvalidOperationException("MSELoss.Backward was called before Forward.");
        var g = Reuse(ref _grad, _input.Shape);
        ReadOnlySpan<T> x = _input.ReadOnlySpan, t = _target!.ReadOnlySpan;
        Span<T> gs = g.Span;
        T scale = T.CreateChecked(2.0 / Math.Max(1, x.Length));
        for (int i = 0; i < x.Length; i++) gs[i] = scale * (x[i] - t[i]);
        return g;
    }

    /// <summary>A one-line description, PyTorch style: <c>MSELoss()</c>.</summary>
    public override string ToString() => "MSELoss()";
}
