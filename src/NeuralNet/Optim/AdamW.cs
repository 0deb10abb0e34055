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
    public AdamW(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: true) { }
}
