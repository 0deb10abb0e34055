using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

// One update operator per optimizer, run by UpdateDriver: the formula once per form, with the same operations in the
// same order in each (no fused multiply-add), so the scalar, Vector256 and Vector512 levels give the same bits.
public static partial class OptimizerKernels
{
    /// <summary>θ ← θ − η·(g + λθ).</summary>
    internal readonly struct SgdUpdate<T>(T lr, T wd) : IUpdateOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T grad, ref T s0, ref T s1, ref T s2) => theta - lr * (grad + wd * theta);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> s0, ref Vector256<T> s1, ref Vector256<T> s2) =>
            theta - Vector256.Create(lr) * (grad + Vector256.Create(wd) * theta);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2) =>
            theta - Vector512.Create(lr) * (grad + Vector512.Create(wd) * theta);
    }

    /// <summary>
    /// g ← ∇ + λθ; b ← g at the first step, else μ·b + (1 − τ)·g; θ ← θ − η·(g + μ·b) (Nesterov) or θ − η·b.
    /// State s₀ = b.
    /// </summary>
    internal readonly struct SgdMomentumUpdate<T>(T lr, T wd, T mu, T keep, bool nesterov, bool first) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T grad, ref T b, ref T s1, ref T s2)
        {
            T g = grad + wd * theta;
            b = first ? g : mu * b + keep * g;
            return theta - lr * (nesterov ? g + mu * b : b);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> b, ref Vector256<T> s1, ref Vector256<T> s2)
        {
            Vector256<T> g = grad + Vector256.Create(wd) * theta, vmu = Vector256.Create(mu);
            b = first ? g : vmu * b + Vector256.Create(keep) * g;
            return theta - Vector256.Create(lr) * (nesterov ? g + vmu * b : b);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> b, ref Vector512<T> s1, ref Vector512<T> s2)
        {
            Vector512<T> g = grad + Vector512.Create(wd) * theta, vmu = Vector512.Create(mu);
            b = first ? g : vmu * b + Vector512.Create(keep) * g;
            return theta - Vector512.Create(lr) * (nesterov ? g + vmu * b : b);
        }
    }

    /// <summary>
    /// Adam: g ← ∇ + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − a·m / (√v·c + ε) with a = η/(1 − β₁ᵗ),
    /// c = 1/√(1 − β₂ᵗ) (= θ − η·m̂/(√v̂ + ε)). States s₀ = m, s₁ = v.
    /// </summary>
    internal readonly struct AdamUpdate<T>(T wd, T b1, T c1, T b2, T c2, T stepSize, T invSqrtBc2, T eps) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T grad, ref T m, ref T v, ref T s2)
        {
            T g = grad + wd * theta;
            m = b1 * m + c1 * g;
            v = b2 * v + c2 * g * g;
            return theta - stepSize * m / (T.Sqrt(v) * invSqrtBc2 + eps);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> m, ref Vector256<T> v, ref Vector256<T> s2)
        {
            Vector256<T> g = grad + Vector256.Create(wd) * theta;
            m = Vector256.Create(b1) * m + Vector256.Create(c1) * g;
            v = Vector256.Create(b2) * v + Vector256.Create(c2) * g * g;
            return theta - Vector256.Create(stepSize) * m / (Vector256.Sqrt(v) * Vector256.Create(invSqrtBc2) + Vector256.Create(eps));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> m, ref Vector512<T> v, ref Vector512<T> s2)
        {
            Vector512<T> g = grad + Vector512.Create(wd) * theta;
            m = Vector512.Create(b1) * m + Vector512.Create(c1) * g;
            v = Vector512.Create(b2) * v + Vector512.Create(c2) * g * g;
            return theta - Vector512.Create(stepSize) * m / (Vector512.Sqrt(v) * Vector512.Create(invSqrtBc2) + Vector512.Create(eps));
        }
    }

    /// <summary>
    /// AdamW: θ ← θ·(1 − ηλ) (decoupled decay), then Adam's update with g = ∇ (no λθ term). States s₀ = m, s₁ = v.
    /// </summary>
    internal readonly struct AdamWUpdate<T>(T shrink, T b1, T c1, T b2, T c2, T stepSize, T invSqrtBc2, T eps) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T g, ref T m, ref T v, ref T s2)
        {
            theta *= shrink;
            m = b1 * m + c1 * g;
            v = b2 * v + c2 * g * g;
            return theta - stepSize * m / (T.Sqrt(v) * invSqrtBc2 + eps);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> g, ref Vector256<T> m, ref Vector256<T> v, ref Vector256<T> s2)
        {
            theta *= Vector256.Create(shrink);
            m = Vector256.Create(b1) * m + Vector256.Create(c1) * g;
            v = Vector256.Create(b2) * v + Vector256.Create(c2) * g * g;
            return theta - Vector256.Create(stepSize) * m / (Vector256.Sqrt(v) * Vector256.Create(invSqrtBc2) + Vector256.Create(eps));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> g, ref Vector512<T> m, ref Vector512<T> v, ref Vector512<T> s2)
        {
            theta *= Vector512.Create(shrink);
            m = Vector512.Create(b1) * m + Vector512.Create(c1) * g;
            v = Vector512.Create(b2) * v + Vector512.Create(c2) * g * g;
            return theta - Vector512.Create(stepSize) * m / (Vector512.Sqrt(v) * Vector512.Create(invSqrtBc2) + Vector512.Create(eps));
        }
    }

    /// <summary>
    /// g ← ∇ + λθ; v ← αv + (1 − α)g²; d = √v + ε; with momentum b ← μb + g/d, θ ← θ − η·b, else θ ← θ − η·g/d.
    /// States s₀ = v, s₁ = b (with momentum).
    /// </summary>
    internal readonly struct RmsPropUpdate<T>(T lr, T wd, T alpha, T oneMinusAlpha, T eps, T mu, bool momentum) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T grad, ref T v, ref T b, ref T s2)
        {
            T g = grad + wd * theta;
            v = alpha * v + oneMinusAlpha * g * g;
            T d = T.Sqrt(v) + eps;
            if (!momentum) return theta - lr * g / d;
            b = mu * b + g / d;
            return theta - lr * b;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> v, ref Vector256<T> b, ref Vector256<T> s2)
        {
            Vector256<T> g = grad + Vector256.Create(wd) * theta;
            v = Vector256.Create(alpha) * v + Vector256.Create(oneMinusAlpha) * g * g;
            Vector256<T> d = Vector256.Sqrt(v) + Vector256.Create(eps);
            if (!momentum) return theta - Vector256.Create(lr) * g / d;
            b = Vector256.Create(mu) * b + g / d;
            return theta - Vector256.Create(lr) * b;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> v, ref Vector512<T> b, ref Vector512<T> s2)
        {
            Vector512<T> g = grad + Vector512.Create(wd) * theta;
            v = Vector512.Create(alpha) * v + Vector512.Create(oneMinusAlpha) * g * g;
            Vector512<T> d = Vector512.Sqrt(v) + Vector512.Create(eps);
            if (!momentum) return theta - Vector512.Create(lr) * g / d;
            b = Vector512.Create(mu) * b + g / d;
            return theta - Vector512.Create(lr) * b;
        }
    }

    /// <summary>
    /// Centered RMSProp: g ← ∇ + λθ; v ← αv + (1 − α)g²; ḡ ← αḡ + (1 − α)g; d = √(v − ḡ²) + ε; then as
    /// <see cref="RmsPropUpdate{T}"/>. States s₀ = v, s₁ = ḡ, s₂ = b (with momentum).
    /// </summary>
    internal readonly struct CenteredRmsPropUpdate<T>(T lr, T wd, T alpha, T oneMinusAlpha, T eps, T mu, bool momentum) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T theta, T grad, ref T v, ref T gAvg, ref T b)
        {
            T g = grad + wd * theta;
            v = alpha * v + oneMinusAlpha * g * g;
            gAvg = alpha * gAvg + oneMinusAlpha * g;
            T d = T.Sqrt(v - gAvg * gAvg) + eps;
            if (!momentum) return theta - lr * g / d;
            b = mu * b + g / d;
            return theta - lr * b;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> v, ref Vector256<T> gAvg, ref Vector256<T> b)
        {
            Vector256<T> a = Vector256.Create(alpha), ca = Vector256.Create(oneMinusAlpha);
            Vector256<T> g = grad + Vector256.Create(wd) * theta;
            v = a * v + ca * g * g;
            gAvg = a * gAvg + ca * g;
            Vector256<T> d = Vector256.Sqrt(v - gAvg * gAvg) + Vector256.Create(eps);
            if (!momentum) return theta - Vector256.Create(lr) * g / d;
            b = Vector256.Create(mu) * b + g / d;
            return theta - Vector256.Create(lr) * b;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> v, ref Vector512<T> gAvg, ref Vector512<T> b)
        {
            Vector512<T> a = Vector512.Create(alpha), ca = Vector512.Create(oneMinusAlpha);
            Vector512<T> g = grad + Vector512.Create(wd) * theta;
            v = a * v + ca * g * g;
            gAvg = a * gAvg + ca * g;
            Vector512<T> d = Vector512.Sqrt(v - gAvg * gAvg) + Vector512.Create(eps);
            if (!momentum) return theta - Vector512.Create(lr) * g / d;
            b = Vector512.Create(mu) * b + g / d;
            return theta - Vector512.Create(lr) * b;
        }
    }
}
