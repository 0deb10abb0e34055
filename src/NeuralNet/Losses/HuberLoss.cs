using System.Globalization;
using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Losses;

/// <summary>
/// Huber loss (PyTorch's HuberLoss, reduction="mean"): with dᵢ = xᵢ − tᵢ and threshold δ,
/// ℓᵢ = ½dᵢ² when |dᵢ| ≤ δ, else δ(|dᵢ| − ½δ); L = (1/M) Σᵢ ℓᵢ over all M elements. Quadratic near the target,
/// linear far from it, so outliers pull less than under MSE.
/// Backward: ∂L/∂xᵢ = clamp(dᵢ, −δ, δ)/M.
/// </summary>
public sealed class HuberLoss<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _target;
    private Tensor<T>? _grad;

    /// <summary>Creates the loss; <paramref name="delta"/> δ must be positive.</summary>
    public HuberLoss(double delta = 1.0)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "HuberLoss: delta must be positive.");
        Delta = delta;
    }

    /// <summary>δ: where the loss turns from quadratic to linear.</summary>
    public double Delta { get; }

    /// <summary>L = (1/M)·Σᵢ ℓᵢ, ℓᵢ = ½dᵢ² if |dᵢ| ≤ δ else δ(|dᵢ| − ½δ), dᵢ = xᵢ − tᵢ; returns L. x, t: same shape, M elements.</summary>
    public override T Forward(Tensor<T> input, Tensor<T> target)
    {
        ShapeMismatchException.ThrowIfDifferent("HuberLoss.Forward", input.Shape, target.Shape, "input", "target");
        _input = input;
        _target = target;
        ReadOnlySpan<T> x = input.ReadOnlySpan, t = target.ReadOnlySpan;
        double sum = 0, delta = Delta;
        for (int i = 0; i < x.Length; i++)
        {
            double d = Math.Abs(double.CreateChecked(x[i] - t[i]));
            sum += d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
        }
        return T.CreateChecked(sum / Math.Max(1, x.Length));
    }

    /// <summary>dxᵢ = clamp(xᵢ − tᵢ, −δ, δ)/M, x's shape.</summary>
    public override Tensor<T> Backward()
    {
        if (_input is null) throw new InvalidOperationException("HuberLoss.Backward was called before Forward.");
        var g = Reuse(ref _grad, _input.Shape);
        ReadOnlySpan<T> x = _input.ReadOnlySpan, t = _target!.ReadOnlySpan;
        Span<T> gs = g.Span;
        T delta = T.CreateChecked(Delta), invM = T.One / T.CreateChecked(Math.Max(1, x.Length));
        for (int i = 0; i < x.Length; i++) gs[i] = T.Clamp(x[i] - t[i], -delta, delta) * invM; // dℓ/dd = clamp(d, −δ, δ)
        return g;
    }

    /// <summary>A one-line description, PyTorch style: <c>HuberLoss(delta=1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"HuberLoss(delta={Delta})");
}
