using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The optimizers' update loops over one slice of a parameter θ, its gradient g and its state, in place. The
/// hyper-parameters arrive as doubles and are turned into the constants of the update once per call; the element loop
/// is an update operator (<c>OptimizerKernels.Operators.cs</c>) run by <see cref="UpdateDriver"/> at the level of
/// <see cref="Simd.Active"/>. <see cref="OptimizerKernelsReference"/> is the plain-loop specification. Lengths are
/// checked once here; nothing is allocated.
/// </summary>
public static partial class OptimizerKernels
{
    /// <summary>SGD without momentum: θ ← θ − η·(g + λθ).</summary>
    public static void Sgd<T>(Span<T> theta, ReadOnlySpan<T> grad, double learningRate, double weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(theta.Length, grad.Length, nameof(Sgd));
        var op = new SgdUpdate<T>(T.CreateChecked(learningRate), T.CreateChecked(weightDecay));
        UpdateDriver.Update(op, theta, grad, default, default, default);
    }

    /// <summary>
    /// SGD with momentum μ and dampening τ: g ← ∇ + λθ; b ← g when <paramref name="firstStep"/>, else μb + (1 − τ)g;
    /// θ ← θ − η·(g + μb) with <paramref name="nesterov"/>, else θ − η·b.
    /// </summary>
    public static void SgdMomentum<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> momentumBuffer, double learningRate,
        double weightDecay, double momentum, double dampening, bool nesterov, bool firstStep)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(theta.Length, grad.Length, nameof(SgdMomentum));
        Elementwise.CheckLengths(theta.Length, momentumBuffer.Length, nameof(SgdMomentum));
        var op = new SgdMomentumUpdate<T>(T.CreateChecked(learningRate), T.CreateChecked(weightDecay), T.CreateChecked(momentum),
            T.One - T.CreateChecked(dampening), nesterov, firstStep);
        UpdateDriver.Update(op, theta, grad, momentumBuffer, default, default);
    }

    /// <summary>
    /// Adam step t (from 1): g ← ∇ + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η·m̂/(√v̂ + ε) with
    /// m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). With <paramref name="decoupled"/> (AdamW) the decay is θ ← θ(1 − ηλ) first
    /// and g = ∇.
    /// </summary>
    public static void Adam<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> m, Span<T> v, double learningRate, double beta1,
        double beta2, double eps, double weightDecay, bool decoupled, long step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(theta.Length, grad.Length, nameof(Adam));
        Elementwise.CheckLengths(theta.Length, m.Length, nameof(Adam));
        Elementwise.CheckLengths(theta.Length, v.Length, nameof(Adam));
        // θ − η·(m/bc1) / (√(v/bc2) + ε) = θ − stepSize·m / (√v/√bc2 + ε), bc = 1 − βᵗ
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        T stepSize = T.CreateChecked(learningRate / bc1), invSqrtBc2 = T.CreateChecked(1 / Math.Sqrt(bc2));
        T b1 = T.CreateChecked(beta1), b2 = T.CreateChecked(beta2), e = T.CreateChecked(eps);
        if (decoupled)
        {
            T shrink = T.One - T.CreateChecked(learningRate * weightDecay);
            UpdateDriver.Update(new AdamWUpdate<T>(shrink, b1, T.One - b1, b2, T.One - b2, stepSize, invSqrtBc2, e), theta, grad, m, v, default);
        }
        else
        {
            UpdateDriver.Update(new AdamUpdate<T>(T.CreateChecked(weightDecay), b1, T.One - b1, b2, T.One - b2, stepSize, invSqrtBc2, e), theta, grad, m, v, default);
        }
    }

    /// <summary>
    /// RMSProp: g ← ∇ + λθ; v ← αv + (1 − α)g²; d = √v + ε (centered: ḡ ← αḡ + (1 − α)g, d = √(v − ḡ²) + ε);
    /// θ ← θ − η·g/d, or with momentum μ &gt; 0: b ← μb + g/d, θ ← θ − η·b. <paramref name="momentumBuffer"/> is empty
    /// without momentum, <paramref name="gradAvg"/> when not centered.
    /// </summary>
    public static void RmsProp<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> squareAvg, Span<T> momentumBuffer, Span<T> gradAvg,
        double learningRate, double alpha, double eps, double weightDecay, double momentum, bool centered)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(theta.Length, grad.Length, nameof(RmsProp));
        Elementwise.CheckLengths(theta.Length, squareAvg.Length, nameof(RmsProp));
        if (momentum > 0) Elementwise.CheckLengths(theta.Length, momentumBuffer.Length, nameof(RmsProp));
        if (centered) Elementwise.CheckLengths(theta.Length, gradAvg.Length, nameof(RmsProp));
        T a = T.CreateChecked(alpha), lr = T.CreateChecked(learningRate), wd = T.CreateChecked(weightDecay), e = T.CreateChecked(eps);
        T mu = T.CreateChecked(momentum);
        Span<T> b = momentum > 0 ? momentumBuffer : default;
        if (centered)
            UpdateDriver.Update(new CenteredRmsPropUpdate<T>(lr, wd, a, T.One - a, e, mu, momentum > 0), theta, grad, squareAvg, gradAvg, b);
        else
            UpdateDriver.Update(new RmsPropUpdate<T>(lr, wd, a, T.One - a, e, mu, momentum > 0), theta, grad, squareAvg, b, default);
    }
}
