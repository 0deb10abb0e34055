using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The specification of <see cref="OptimizerKernels"/>: each update as a plain scalar loop in the formula's own words,
/// with the same constants and the same order of operations, so every level of the tuned kernels must match it to
/// the bit. Slow on purpose; the tests compare with it.
/// </summary>
public static class OptimizerKernelsReference
{
    /// <summary>θ ← θ − η·(g + λθ).</summary>
    public static void Sgd<T>(Span<T> theta, ReadOnlySpan<T> grad, double learningRate, double weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lr = T.CreateChecked(learningRate), wd = T.CreateChecked(weightDecay);
        for (int i = 0; i < theta.Length; i++)
        {
            T g = grad[i] + wd * theta[i];
            theta[i] -= lr * g;
        }
    }

    /// <summary>g ← ∇ + λθ; b ← g (first step) or μb + (1 − τ)g; θ ← θ − η·(g + μb) (Nesterov) or θ − η·b.</summary>
    public static void SgdMomentum<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> momentumBuffer, double learningRate,
        double weightDecay, double momentum, double dampening, bool nesterov, bool firstStep)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lr = T.CreateChecked(learningRate), wd = T.CreateChecked(weightDecay), mu = T.CreateChecked(momentum);
        T keep = T.One - T.CreateChecked(dampening);
        for (int i = 0; i < theta.Length; i++)
        {
            T g = grad[i] + wd * theta[i];
            T b = firstStep ? g : mu * momentumBuffer[i] + keep * g;
            momentumBuffer[i] = b;
            T step = nesterov ? g + mu * b : b;
            theta[i] -= lr * step;
        }
    }

    /// <summary>Adam (AdamW with <paramref name="decoupled"/>) step t, bias corrections folded into two constants.</summary>
    public static void Adam<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> m, Span<T> v, double learningRate, double beta1,
        double beta2, double eps, double weightDecay, bool decoupled, long step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        T stepSize = T.CreateChecked(learningRate / bc1), invSqrtBc2 = T.CreateChecked(1 / Math.Sqrt(bc2));
        T b1 = T.CreateChecked(beta1), b2 = T.CreateChecked(beta2), e = T.CreateChecked(eps);
        T shrink = decoupled ? T.One - T.CreateChecked(learningRate * weightDecay) : T.One;
        T wd = T.CreateChecked(weightDecay);
        for (int i = 0; i < theta.Length; i++)
        {
            T th = theta[i] * shrink;                                   // AdamW: θ(1 − ηλ)
            T g = decoupled ? grad[i] : grad[i] + wd * th;              // Adam: g + λθ
            m[i] = b1 * m[i] + (T.One - b1) * g;
            v[i] = b2 * v[i] + (T.One - b2) * g * g;
            theta[i] = th - stepSize * m[i] / (T.Sqrt(v[i]) * invSqrtBc2 + e);  // θ − η·m̂/(√v̂ + ε)
        }
    }

    /// <summary>RMSProp, optionally centered and with momentum.</summary>
    public static void RmsProp<T>(Span<T> theta, ReadOnlySpan<T> grad, Span<T> squareAvg, Span<T> momentumBuffer, Span<T> gradAvg,
        double learningRate, double alpha, double eps, double weightDecay, double momentum, bool centered)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lr = T.CreateChecked(learningRate), a = T.CreateChecked(alpha), e = T.CreateChecked(eps);
        T wd = T.CreateChecked(weightDecay), mu = T.CreateChecked(momentum);
        for (int i = 0; i < theta.Length; i++)
        {
            T g = grad[i] + wd * theta[i];
            squareAvg[i] = a * squareAvg[i] + (T.One - a) * g * g;
            T d;
            if (centered)
            {
                gradAvg[i] = a * gradAvg[i] + (T.One - a) * g;
                d = T.Sqrt(squareAvg[i] - gradAvg[i] * gradAvg[i]) + e;
            }
            else d = T.Sqrt(squareAvg[i]) + e;
            if (momentum > 0)
            {
                momentumBuffer[i] = mu * momentumBuffer[i] + g / d;
                theta[i] -= lr * momentumBuffer[i];
            }
            else theta[i] -= lr * g / d;
        }
    }
}
