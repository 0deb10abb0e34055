using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Losses;

/// <summary>
/// Binary cross-entropy on logits, fused with the sigmoid: L = (1/M) Σᵢ −[tᵢ·log σ(xᵢ) + (1 − tᵢ)·log(1 − σ(xᵢ))].
/// </summary>
/// <remarks>
/// Stable form: ℓ(x, t) = max(x, 0) − x·t + log(1 + e^(−|x|)), equal to the above but never taking the log of 0 or
/// the exponent of a large positive number.
/// Backward: with log σ(x) = −log(1 + e^(−x)) and log(1 − σ(x)) = −x − log(1 + e^(−x)), ∂ℓ/∂x = σ(x) − t; so dxᵢ = (σ(xᵢ) − tᵢ)/M.
/// Targets are in [0, 1] (soft labels allowed); any shape.
/// </remarks>
public sealed class BCEWithLogitsLoss<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _target;
    private Tensor<T>? _grad;

    /// <summary>L = (1/M)·Σᵢ [max(xᵢ, 0) − xᵢ·tᵢ + log(1 + e^(−|xᵢ|))]; returns L. x (logits), t ∈ [0, 1]: same shape, M elements.</summary>
    public override T Forward(Tensor<T> input, Tensor<T> target)
    {
        ShapeMismatchException.ThrowIfDifferent("BCEWithLogitsLoss.Forward", input.Shape, target.Shape, "input", "target");
        _input = input;
        _target = target;
        ReadOnlySpan<T> x = input.ReadOnlySpan, t = target.ReadOnlySpan;
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double xi = double.CreateChecked(x[i]), ti = double.CreateChecked(t[i]);
            sum += Math.Max(xi, 0) - xi * ti + Math.Log(1 + Math.Exp(-Math.Abs(xi)));
        }
        return T.CreateChecked(sum / Math.Max(1, x.Length));
    }

    /// <summary>dxᵢ = (σ(xᵢ) − tᵢ)/M, x's shape.</summary>
    public override Tensor<T> Backward()
    {
        if (_input is null) throw new InvalidOperationException("BCEWithLogitsLoss.Backward was called before Forward.");
        var g = Reuse(ref _grad, _input.Shape);
        ReadOnlySpan<T> x = _input.ReadOnlySpan, t = _target!.ReadOnlySpan;
        Span<T> gs = g.Span;
        T invM = T.One / T.CreateChecked(Math.Max(1, x.Length));
        for (int i = 0; i < x.Length; i++)
        {
            // σ(x) without overflow for either sign.
            T e = T.Exp(-T.Abs(x[i]));
            T sigma = x[i] >= T.Zero ? T.One / (T.One + e) : e / (T.One + e);
            gs[i] = (sigma - t[i]) * invM;
        }
        return g;
    }

    /// <summary>A one-line description, PyTorch style: <c>BCEWithLogitsLoss()</c>.</summary>
    public override string ToString() => "BCEWithLogitsLoss()";
}
