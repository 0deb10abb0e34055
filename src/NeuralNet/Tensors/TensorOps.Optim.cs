using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

// The optimizers' update loops, over one slice of a parameter (θ), its gradient (g) and its state, in place.
public static partial class TensorOps
{
    /// <summary>SGD: θ ← θ − η·(g + λθ).</summary>
    public static void SgdStep<T>(Span<T> theta, ReadOnlySpan<T> grad, double learningRate, double weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OptimizerKernels.Sgd(theta, grad, learningRate, weightDecay);

    /// <summary>
    /// SGD with momentum μ, dampening τ: g ← ∇ + λθ; b ← g at the first step, μ·b + (1 − τ)·g after;
    /// θ ← θ − η·(g + μ·b) (Nesterov) or θ ← θ − η·b.
    /// </summary>
    public static void SgdMomentumStep<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> momentumBuffer, double learningRate,
        double weightDecay, double momentum, double dampening, bool nesterov, bool firstStep)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OptimizerKernels.SgdMomentum(theta, grad, momentumBuffer, learningRate, weightDecay, momentum, dampening, nesterov, firstStep);

    /// <summary>
    /// Adam step t (from 1): g ← ∇ + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
    /// θ ← θ − η·m̂/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). With <paramref name="decoupled"/> (AdamW):
    /// θ ← θ(1 − ηλ) first and g = ∇.
    /// </summary>
    public static void AdamStep<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> m, Span<T> v, double learningRate, double beta1,
        double beta2, double eps, double weightDecay, bool decoupled, long step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OptimizerKernels.Adam(theta, grad, m, v, learningRate, beta1, beta2, eps, weightDecay, decoupled, step);

    /// <summary>
    /// RMSProp: g ← ∇ + λθ; v ← αv + (1 − α)g²; d = √v + ε (centered: ḡ ← αḡ + (1 − α)g, d = √(v − ḡ²) + ε);
    /// θ ← θ − η·g/d, or with momentum μ &gt; 0, b ← μb + g/d and θ ← θ − η·b. <paramref name="momentumBuffer"/> may be
    /// empty without momentum, <paramref name="gradAvg"/> when not centered.
    /// </summary>
    public static void RmsPropStep<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> squareAvg, Span<T> momentumBuffer, Span<T> gradAvg,
        double learningRate, double alpha, double eps, double weightDecay, double momentum, bool centered)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OptimizerKernels.RmsProp(theta, grad, squareAvg, momentumBuffer, gradAvg, learningRate, alpha, eps, weightDecay, momentum, centered);
}
