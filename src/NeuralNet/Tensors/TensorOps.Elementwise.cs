using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

// Activations forward and backward, the softmax family, arithmetic on spans, reductions, dropout masks.
public static partial class TensorOps
{
    // ---- activations (any shape; x, y, dy, dx all the same shape) --------------------------------

    /// <summary>y = max(x, 0).</summary>
    public static void Relu<T>(Tensor<T> x, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("Relu", x, y, "x", "y");
        Elementwise.ReluForward<T>(x.ReadOnlySpan, y.Span);
    }

    /// <summary>dx = dy ⊙ [y &gt; 0], from the saved output y (the derivative at 0 is taken as 0).</summary>
    public static void ReluBackward<T>(Tensor<T> y, Tensor<T> dy, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("ReluBackward", y, dy, dx);
        Elementwise.ReluBackward<T>(y.ReadOnlySpan, dy.ReadOnlySpan, dx.Span);
    }

    /// <summary>y = x for x &gt; 0, α·x otherwise.</summary>
    public static void LeakyRelu<T>(Tensor<T> x, T negativeSlope, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("LeakyRelu", x, y, "x", "y");
        Elementwise.LeakyReluForward<T>(x.ReadOnlySpan, negativeSlope, y.Span);
    }

    /// <summary>dx = dy for x &gt; 0, α·dy otherwise, from the saved input x.</summary>
    public static void LeakyReluBackward<T>(Tensor<T> x, Tensor<T> dy, T negativeSlope, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("LeakyReluBackward", x, dy, dx);
        Elementwise.LeakyReluBackward<T>(x.ReadOnlySpan, dy.ReadOnlySpan, negativeSlope, dx.Span);
    }

    /// <summary>y = σ(x) = 1 / (1 + e^(−x)).</summary>
    public static void Sigmoid<T>(Tensor<T> x, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("Sigmoid", x, y, "x", "y");
        Elementwise.SigmoidForward<T>(x.ReadOnlySpan, y.Span);
    }

    /// <summary>dx = dy ⊙ y ⊙ (1 − y), from the saved output y = σ(x).</summary>
    public static void SigmoidBackward<T>(Tensor<T> y, Tensor<T> dy, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("SigmoidBackward", y, dy, dx);
        Elementwise.SigmoidBackward<T>(y.ReadOnlySpan, dy.ReadOnlySpan, dx.Span);
    }

    /// <summary>y = tanh(x).</summary>
    public static void Tanh<T>(Tensor<T> x, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("Tanh", x, y, "x", "y");
        Elementwise.TanhForward<T>(x.ReadOnlySpan, y.Span);
    }

    /// <summary>dx = dy ⊙ (1 − y²), from the saved output y = tanh(x).</summary>
    public static void TanhBackward<T>(Tensor<T> y, Tensor<T> dy, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("TanhBackward", y, dy, dx);
        Elementwise.TanhBackward<T>(y.ReadOnlySpan, dy.ReadOnlySpan, dx.Span);
    }

    // ---- softmax family (over the last dimension) ------------------------------------------------

    /// <summary>yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), m = maxⱼ xⱼ, over the last dimension of x (…, C).</summary>
    public static void Softmax<T>(Tensor<T> x, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("Softmax", x, y, "x", "y");
        if (x.Rank == 0) throw new ShapeMismatchException("Softmax: x () is a scalar; softmax needs a last dimension.");
        RowOps.Softmax<T>(x.ReadOnlySpan, y.Span, x.Shape[-1]);
    }

    /// <summary>dx = y ⊙ (dy − ⟨dy, y⟩) row by row over the last dimension, from the saved output y.</summary>
    public static void SoftmaxBackward<T>(Tensor<T> y, Tensor<T> dy, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("SoftmaxBackward", y, dy, dx);
        if (y.Rank == 0) throw new ShapeMismatchException("SoftmaxBackward: y () is a scalar; softmax needs a last dimension.");
        RowOps.SoftmaxBackward<T>(y.ReadOnlySpan, dy.ReadOnlySpan, dx.Span, y.Shape[-1]);
    }

    /// <summary>
    /// For logits x (N, C): lse[n] = log Σ_c e^(x[n,c]) = m + log Σ_c e^(x[n,c] − m) with m the row maximum (no exponent
    /// is positive), and softmax[n, :] = e^(x[n, :] − lse[n]). <paramref name="lse"/> has N elements.
    /// </summary>
    public static void LogSumExp<T>(Tensor<T> x, Span<T> lse, Tensor<T> softmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SameShape("LogSumExp", x, softmax, "x", "softmax");
        if (x.Rank != 2 || lse.Length != x.Shape[0])
            throw new ShapeMismatchException($"LogSumExp: x {x.Shape} must be (N, C) with one log-sum-exp per row; {lse.Length} were given.");
        RowOps.LogSoftmaxParts<T>(x.ReadOnlySpan, softmax.Span, lse);
    }

    // ---- arithmetic on spans (destination last; it may be an input, not a partly overlapping span) ----

    /// <summary>z = x + y.</summary>
    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Add(x, y, z);

    /// <summary>y = x + s.</summary>
    public static void Add<T>(ReadOnlySpan<T> x, T s, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Add(x, s, y);

    /// <summary>z = x − y.</summary>
    public static void Subtract<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Subtract(x, y, z);

    /// <summary>z = x ⊙ y.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Multiply(x, y, z);

    /// <summary>y = x·s.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> x, T s, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Multiply(x, s, y);

    /// <summary>w = x ⊙ y + z.</summary>
    public static void MultiplyAdd<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> w) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.MultiplyAdd(x, y, z, w);

    /// <summary>y = x·a + b.</summary>
    public static void Affine<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Affine(x, a, b, y);

    /// <summary>Σ x.</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Elementwise.Sum(x);

    /// <summary>⟨x, y⟩ = Σ x·y.</summary>
    public static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Elementwise.Dot(x, y);

    // ---- dropout ---------------------------------------------------------------------------------

    /// <summary>
    /// The inverted-dropout mask M: M[i] = 0 with probability p, else 1/(1 − p) (so E[M] = 1), one draw of
    /// <paramref name="rng"/> per element in order.
    /// </summary>
    public static void DropoutMask<T>(Rng rng, double p, Span<T> mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "DropoutMask: p must be in [0, 1].");
        T keep = T.One / (T.One - T.CreateChecked(p));
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < p ? T.Zero : keep;
    }

    private static void SameShape<T>(string operation, Tensor<T> a, Tensor<T> b, string nameA, string nameB) where T : unmanaged, IFloatingPointIeee754<T> =>
        ShapeMismatchException.ThrowIfDifferent(operation, a.Shape, b.Shape, nameA, nameB);

    private static void SameShape<T>(string operation, Tensor<T> saved, Tensor<T> dy, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMismatchException.ThrowIfDifferent(operation, saved.Shape, dy.Shape, "saved", "dy");
        ShapeMismatchException.ThrowIfDifferent(operation, dy.Shape, dx.Shape, "dy", "dx");
    }
}
