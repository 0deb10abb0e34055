using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Elementwise kernels: the activations' forward and backward passes, arithmetic on spans, and the reductions
/// (sum, dot product, maximum). Destination last, as in TensorPrimitives; lengths checked once here; no allocation.
/// Each is one operator struct (<c>Elementwise.Operators.cs</c>) run by <see cref="ElementwiseDriver"/>, which picks
/// the Vector512, Vector256 or scalar form from <see cref="Simd.Active"/>. <see cref="ElementwiseReference"/> is the
/// plain-loop specification.
/// </summary>
public static partial class Elementwise
{
    // ---- activations ----------------------------------------------------------------------------

    /// <summary>y = max(x, 0).</summary>
    public static void ReluForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(ReluForward));
        ElementwiseDriver.Unary<T, ReluOperator<T>>(x, y);
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (the mask is read from the output; at x = 0 the derivative is taken as 0).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(ReluBackward));
        CheckLengths(y.Length, dx.Length, nameof(ReluBackward));
        ElementwiseDriver.Binary<T, ReluBackwardOperator<T>>(y, dy, dx);
    }

    /// <summary>y = x for x &gt; 0, slope·x otherwise.</summary>
    public static void LeakyReluForward<T>(ReadOnlySpan<T> x, T slope, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(LeakyReluForward));
        ElementwiseDriver.Unary(new LeakyReluOperator<T>(slope), x, y);
    }

    /// <summary>dx = dy for x &gt; 0, slope·dy otherwise.</summary>
    public static void LeakyReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T slope, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, dy.Length, nameof(LeakyReluBackward));
        CheckLengths(x.Length, dx.Length, nameof(LeakyReluBackward));
        ElementwiseDriver.Binary(new LeakyReluBackwardOperator<T>(slope), x, dy, dx);
    }

    /// <summary>y = σ(x) = 1 / (1 + e^(−x)).</summary>
    public static void SigmoidForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(SigmoidForward));
        ElementwiseDriver.Unary<T, SigmoidOperator<T>>(x, y);
    }

    /// <summary>dx = dy · y · (1 − y), from the saved output y = σ(x).</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(SigmoidBackward));
        CheckLengths(y.Length, dx.Length, nameof(SigmoidBackward));
        ElementwiseDriver.Binary<T, SigmoidBackwardOperator<T>>(y, dy, dx);
    }

    /// <summary>y = tanh(x).</summary>
    public static void TanhForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(TanhForward));
        ElementwiseDriver.Unary<T, TanhOperator<T>>(x, y);
    }

    /// <summary>dx = dy · (1 − y²), from the saved output y = tanh(x).</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(TanhBackward));
        CheckLengths(y.Length, dx.Length, nameof(TanhBackward));
        ElementwiseDriver.Binary<T, TanhBackwardOperator<T>>(y, dy, dx);
    }

    // ---- arithmetic -----------------------------------------------------------------------------

    /// <summary>z = x + y.</summary>
    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Add));
        CheckLengths(x.Length, z.Length, nameof(Add));
        ElementwiseDriver.Binary<T, AddOperator<T>>(x, y, z);
    }

    /// <summary>z = x − y.</summary>
    public static void Subtract<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Subtract));
        CheckLengths(x.Length, z.Length, nameof(Subtract));
        ElementwiseDriver.Binary<T, SubtractOperator<T>>(x, y, z);
    }

    /// <summary>z = x ⊙ y.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Multiply));
        CheckLengths(x.Length, z.Length, nameof(Multiply));
        ElementwiseDriver.Binary<T, MultiplyOperator<T>>(x, y, z);
    }

    /// <summary>w = x ⊙ y + z (two roundings, not fused).</summary>
    public static void MultiplyAdd<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(MultiplyAdd));
        CheckLengths(x.Length, z.Length, nameof(MultiplyAdd));
        CheckLengths(x.Length, w.Length, nameof(MultiplyAdd));
        ElementwiseDriver.Ternary<T, MultiplyAddOperator<T>>(x, y, z, w);
    }

    /// <summary>y = x + s.</summary>
    public static void Add<T>(ReadOnlySpan<T> x, T s, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Add));
        ElementwiseDriver.Unary(new AddScalarOperator<T>(s), x, y);
    }

    /// <summary>y = x·s.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> x, T s, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Multiply));
        ElementwiseDriver.Unary(new MultiplyScalarOperator<T>(s), x, y);
    }

    /// <summary>y = x·a + b.</summary>
    public static void Affine<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Affine));
        ElementwiseDriver.Unary(new AffineOperator<T>(a, b), x, y);
    }

    // ---- reductions -----------------------------------------------------------------------------

    /// <summary>Σ x (0 for an empty span).</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        ElementwiseDriver.Aggregate<T, IdentityOperator<T>, SumAggregation<T>>(default, x);

    /// <summary>Σ x².</summary>
    public static T SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        ElementwiseDriver.Aggregate<T, SquareOperator<T>, SumAggregation<T>>(default, x);

    /// <summary>⟨x, y⟩ = Σ x·y.</summary>
    public static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(Dot));
        return ElementwiseDriver.Aggregate<T, MultiplyOperator<T>, SumAggregation<T>>(default, x, y);
    }

    /// <summary>max x, NaN when any element is NaN, −∞ for an empty span.</summary>
    public static T Max<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        ElementwiseDriver.Aggregate<T, IdentityOperator<T>, MaxAggregation<T>>(default, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckLengths(int a, int b, string operation)
    {
        if (a != b) ThrowLengths(a, b, operation);
    }

    [DoesNotReturn]
    private static void ThrowLengths(int a, int b, string operation) =>
        throw new ShapeMismatchException($"{operation}: spans of {a} and {b} elements must have the same length.");
}
