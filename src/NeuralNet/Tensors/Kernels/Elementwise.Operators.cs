using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

// The operator structs: each formula once, in its scalar, Vector256 and Vector512 forms, run by ElementwiseDriver.
// The forms compute the same expression in the same order, so they agree to the bit except where a vector function
// (e^x) differs from the scalar one by an ulp.
public static partial class Elementwise
{
    // ---- activations ----------------------------------------------------------------------------

    /// <summary>y = max(x, 0); a NaN passes through (NaN &lt; 0 is false).</summary>
    internal readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x < T.Zero ? T.Zero : x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), Vector256<T>.Zero, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), Vector512<T>.Zero, x);
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (operands y, dy).</summary>
    internal readonly struct ReluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T y, T dy) => y > T.Zero ? dy : T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy & Vector256.GreaterThan(y, Vector256<T>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy & Vector512.GreaterThan(y, Vector512<T>.Zero);
    }

    /// <summary>
    /// dy where (x − s)·a + b &gt; 0, else 0: a ReLU's backward with its mask recomputed from the input of the affine map
    /// before it (<see cref="ShiftAffineOperator{T}"/>, the same arithmetic, so the same mask bit for bit).
    /// </summary>
    internal readonly struct ReluOfShiftAffineBackwardOperator<T>(T s, T a, T b) : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T dy) => (x - s) * a + b > T.Zero ? dy : T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy) =>
            dy & Vector256.GreaterThan((x - Vector256.Create(s)) * Vector256.Create(a) + Vector256.Create(b), Vector256<T>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy) =>
            dy & Vector512.GreaterThan((x - Vector512.Create(s)) * Vector512.Create(a) + Vector512.Create(b), Vector512<T>.Zero);
    }

    /// <summary>y = x for x &gt; 0, α·x otherwise.</summary>
    internal readonly struct LeakyReluOperator<T>(T slope) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x > T.Zero ? x : slope * x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * Vector256.Create(slope));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * Vector512.Create(slope));
    }

    /// <summary>dx = dy for x &gt; 0, α·dy otherwise (operands x, dy).</summary>
    internal readonly struct LeakyReluBackwardOperator<T>(T slope) : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T dy) => x > T.Zero ? dy : slope * dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy, dy * Vector256.Create(slope));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), dy, dy * Vector512.Create(slope));
    }

    /// <summary>y = σ(x) = 1 / (1 + e^(−x)); e^(−x) = ∞ for x ≪ 0 gives exactly 0.</summary>
    internal readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => T.One / (T.One + T.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / (Vector256<T>.One + VectorMath.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / (Vector512<T>.One + VectorMath.Exp(-x));
    }

    /// <summary>dx = dy·y·(1 − y), from the saved output y = σ(x) (operands y, dy).</summary>
    internal readonly struct SigmoidBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T y, T dy) => dy * y * (T.One - y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * y * (Vector256<T>.One - y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * y * (Vector512<T>.One - y);
    }

    /// <summary>
    /// y = tanh(x). Vectors: tanh|x| = (1 − e)/(1 + e) with e = e^(−2|x|) ∈ (0, 1] (never overflows), then x's sign.
    /// NOTE: near 0 this is accurate to an ulp of 1, not of y (1 − e cancels), as TensorPrimitives.Tanh; the scalar form
    /// (and so the tail) is the runtime's tanh.
    /// </summary>
    internal readonly struct TanhOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => T.Tanh(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x)
        {
            Vector256<T> e = VectorMath.Exp(Vector256.Create(-(T.One + T.One)) * Vector256.Abs(x));
            Vector256<T> t = (Vector256<T>.One - e) / (Vector256<T>.One + e);
            return t | (x & Vector256.Create(T.NegativeZero)); // t ≥ 0, so OR-ing in the sign bit gives sign(x)·t
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x)
        {
            Vector512<T> e = VectorMath.Exp(Vector512.Create(-(T.One + T.One)) * Vector512.Abs(x));
            Vector512<T> t = (Vector512<T>.One - e) / (Vector512<T>.One + e);
            return t | (x & Vector512.Create(T.NegativeZero));
        }
    }

    /// <summary>dx = dy·(1 − y²), from the saved output y = tanh(x) (operands y, dy).</summary>
    internal readonly struct TanhBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T y, T dy) => dy * (T.One - y * y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * (Vector256<T>.One - y * y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * (Vector512<T>.One - y * y);
    }

    // ---- arithmetic -----------------------------------------------------------------------------

    /// <summary>x + y.</summary>
    internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
    }

    /// <summary>x − y.</summary>
    internal readonly struct SubtractOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y) => x - y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x - y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
    }

    /// <summary>x·y.</summary>
    internal readonly struct MultiplyOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y) => x * y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x * y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
    }

    /// <summary>x·y + z, rounded twice (not fused), so every level gives the same bits.</summary>
    internal readonly struct MultiplyAddOperator<T> : ITernaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y, T z) => x * y + z;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> z) => x * y + z;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z) => x * y + z;
    }

    /// <summary>x + s.</summary>
    internal readonly struct AddScalarOperator<T>(T s) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x + s;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x + Vector256.Create(s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x + Vector512.Create(s);
    }

    /// <summary>x·s.</summary>
    internal readonly struct MultiplyScalarOperator<T>(T s) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x * s;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x * Vector256.Create(s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x * Vector512.Create(s);
    }

    /// <summary>x / s.</summary>
    internal readonly struct DivideScalarOperator<T>(T s) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x / s;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x / Vector256.Create(s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x / Vector512.Create(s);
    }

    /// <summary>x·a + b (the scale and shift of a normalization).</summary>
    internal readonly struct AffineOperator<T>(T a, T b) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x * a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x * Vector256.Create(a) + Vector256.Create(b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x * Vector512.Create(a) + Vector512.Create(b);
    }

    /// <summary>(x − s)·a (centre, then scale).</summary>
    internal readonly struct ShiftScaleOperator<T>(T s, T a) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => (x - s) * a;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => (x - Vector256.Create(s)) * Vector256.Create(a);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => (x - Vector512.Create(s)) * Vector512.Create(a);
    }

    /// <summary>e^(x − s) (the softmax numerator with the row maximum, or log Σ e^x, subtracted).</summary>
    internal readonly struct ShiftedExpOperator<T>(T s) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => T.Exp(x - s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => VectorMath.Exp(x - Vector256.Create(s));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => VectorMath.Exp(x - Vector512.Create(s));
    }

    /// <summary>(x − s)·y (the softmax backward: (dy − ⟨dy, y⟩)·y; batch normalization's Σ (x − μ)·dy).</summary>
    internal readonly struct SubtractMultiplyOperator<T>(T s) : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y) => (x - s) * y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => (x - Vector256.Create(s)) * y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => (x - Vector512.Create(s)) * y;
    }

    /// <summary>a·x + b·y + c (BatchNorm's input gradient in training).</summary>
    internal readonly struct LinearCombinationOperator<T>(T a, T b, T c) : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x, T y) => a * x + b * y + c;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Create(a) * x + Vector256.Create(b) * y + Vector256.Create(c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Create(a) * x + Vector512.Create(b) * y + Vector512.Create(c);
    }

    /// <summary>x (the transform of a plain sum or maximum).</summary>
    internal readonly struct IdentityOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x;
    }

    /// <summary>(x − s)² (batch normalization's sum of squared deviations from the mean s).</summary>
    internal readonly struct ShiftedSquareOperator<T>(T s) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => (x - s) * (x - s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x)
        {
            var d = x - Vector256.Create(s);
            return d * d;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x)
        {
            var d = x - Vector512.Create(s);
            return d * d;
        }
    }

    /// <summary>(x − s)·a + b: batch normalization's y = γ·(x − μ)·r + β with a = γ·r.</summary>
    internal readonly struct ShiftAffineOperator<T>(T s, T a, T b) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => (x - s) * a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => (x - Vector256.Create(s)) * Vector256.Create(a) + Vector256.Create(b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => (x - Vector512.Create(s)) * Vector512.Create(a) + Vector512.Create(b);
    }

    /// <summary>a·dy + b·(x − s) + c: batch normalization's input gradient, with x̂ = (x − μ)·r folded into b.</summary>
    internal readonly struct ShiftedCombinationOperator<T>(T a, T b, T s, T c) : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T dy, T x) => a * dy + b * (x - s) + c;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> dy, Vector256<T> x) =>
            Vector256.Create(a) * dy + Vector256.Create(b) * (x - Vector256.Create(s)) + Vector256.Create(c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> dy, Vector512<T> x) =>
            Vector512.Create(a) * dy + Vector512.Create(b) * (x - Vector512.Create(s)) + Vector512.Create(c);
    }

    /// <summary>x² (the transform of a sum of squares).</summary>
    internal readonly struct SquareOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T x) => x * x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> x) => x * x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> x) => x * x;
    }

    // ---- aggregations ---------------------------------------------------------------------------

    /// <summary>a + b, identity 0.</summary>
    internal readonly struct SumAggregation<T> : IAggregationOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Identity => T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T a, T b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Reduce(Vector256<T> v) => Vector256.Sum(v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Reduce(Vector512<T> v) => Vector512.Sum(v);
    }

    /// <summary>max(a, b), identity −∞; a NaN on either side wins, as in <c>T.Max</c>.</summary>
    internal readonly struct MaxAggregation<T> : IAggregationOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Identity => T.NegativeInfinity;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Invoke(T a, T b) => T.Max(a, b);

        // NOTE: the vector Max does not propagate NaN on every instruction set; selecting explicitly does.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) =>
            Vector256.ConditionalSelect(Vector256.Equals(a, a), Vector256.ConditionalSelect(Vector256.GreaterThan(a, b), a, b), a);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) =>
            Vector512.ConditionalSelect(Vector512.Equals(a, a), Vector512.ConditionalSelect(Vector512.GreaterThan(a, b), a, b), a);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Reduce(Vector256<T> v)
        {
            T m = v.GetElement(0);
            for (int i = 1; i < Vector256<T>.Count; i++) m = T.Max(m, v.GetElement(i));
            return m;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Reduce(Vector512<T> v)
        {
            T m = v.GetElement(0);
            for (int i = 1; i < Vector512<T>.Count; i++) m = T.Max(m, v.GetElement(i));
            return m;
        }
    }
}
