using System.Numerics;
using NeuralNet.Modules;

namespace NeuralNet.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter, 2019): the decay shrinks the weights directly instead of
/// entering the gradient, so it is not rescaled by 1/√v̂:
/// <code>
///   θ ← θ·(1 − η·λ)
///   then Adam's update with g = ∇θ (no λθ term)
/// </code>
/// Default λ = 0.01, as PyTorch's AdamW.
/// </summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>AdamW over <paramref name="parameters"/>: <see cref="Adam{T}"/>'s arguments and ranges, with the decay decoupled.</summary>
    /// <param name="parameters">The parameters to update (at least one).</param>
    /// <param name="learningRate">η, finite and ≥ 0 (default 1e-3).</param>
    /// <param name="beta1">β₁ in [0, 1) (default 0.9).</param>
    /// <param name="beta2">β₂ in [0, 1) (default 0.999).</param>
    /// <param name="eps">ε ≥ 0 (default 1e-8).</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0.01): θ ← θ·(1 − η·λ) before each update.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public AdamW(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: true) { }
}
