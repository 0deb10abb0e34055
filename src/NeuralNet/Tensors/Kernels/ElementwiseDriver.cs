using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The loops that run an elementwise operator over spans, one per arity, and the reductions; the operators hold the
/// math (<see cref="IUnaryOperator{T}"/>, <see cref="IBinaryOperator{T}"/>, <see cref="ITernaryOperator{T}"/>,
/// <see cref="IAggregationOperator{T}"/>). Each driver is compiled once per operator struct, so the formula inlines
/// into the loop.
/// </summary>
/// <remarks>
/// Dispatch follows <see cref="Simd.Active"/>: a Vector512 body when <see cref="Simd.Use512"/>, else a Vector256 body
/// when <see cref="Simd.Use256"/>, then a scalar tail; at <see cref="SimdLevel.Scalar"/> only the scalar form runs. The
/// bodies handle several vectors per trip (all loaded before any is stored), then single vectors: an element's result
/// depends only on its inputs and the level, never on where it falls.
/// Destination last; it may be the same span as an input (in-place), but must not partly overlap one. Lengths are
/// checked by the callers (the kernels' public methods); here only by <c>Debug.Assert</c>. Nothing is allocated.
/// </remarks>
public static class ElementwiseDriver
{
    /// <summary>y[i] = op(x[i]) for an operator without parameters.</summary>
    public static void Unary<T, TOp>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOperator<T> =>
        Unary(default(TOp), x, y);

    /// <summary>y[i] = op(x[i]).</summary>
    public static void Unary<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOperator<T>
    {
        Debug.Assert(x.Length == y.Length);
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length, i = 0;
        if (Simd.Use512)
        {
            nuint w = (nuint)Vector512<T>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                // Four independent vectors per trip: a long formula (e^x) overlaps with the next one's.
                Vector512<T> y0 = op.Invoke(Vector512.LoadUnsafe(ref rx, i));
                Vector512<T> y1 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + w));
                Vector512<T> y2 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + 2 * w));
                Vector512<T> y3 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + 3 * w));
                y0.StoreUnsafe(ref ry, i);
                y1.StoreUnsafe(ref ry, i + w);
                y2.StoreUnsafe(ref ry, i + 2 * w);
                y3.StoreUnsafe(ref ry, i + 3 * w);
            }
            for (; i + w <= n; i += w) op.Invoke(Vector512.LoadUnsafe(ref rx, i)).StoreUnsafe(ref ry, i);
        }
        else if (Simd.Use256)
        {
            nuint w = (nuint)Vector256<T>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                Vector256<T> y0 = op.Invoke(Vector256.LoadUnsafe(ref rx, i));
                Vector256<T> y1 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + w));
                Vector256<T> y2 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + 2 * w));
                Vector256<T> y3 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + 3 * w));
                y0.StoreUnsafe(ref ry, i);
                y1.StoreUnsafe(ref ry, i + w);
                y2.StoreUnsafe(ref ry, i + 2 * w);
                y3.StoreUnsafe(ref ry, i + 3 * w);
            }
            for (; i + w <= n; i += w) op.Invoke(Vector256.LoadUnsafe(ref rx, i)).StoreUnsafe(ref ry, i);
        }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = op.Invoke(Unsafe.Add(ref rx, i));
    }

    /// <summary>z[i] = op(x[i], y[i]) for an operator without parameters.</summary>
    public static void Binary<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOperator<T> =>
        Binary(default(TOp), x, y, z);

    /// <summary>z[i] = op(x[i], y[i]).</summary>
    public static void Binary<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOperator<T>
    {
        Debug.Assert(x.Length == y.Length && x.Length == z.Length);
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rz = ref MemoryMarshal.GetReference(z);
        nuint n = (nuint)x.Length, i = 0;
        if (Simd.Use512)
        {
            nuint w = (nuint)Vector512<T>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                Vector512<T> z0 = op.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i));
                Vector512<T> z1 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + w), Vector512.LoadUnsafe(ref ry, i + w));
                Vector512<T> z2 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + 2 * w), Vector512.LoadUnsafe(ref ry, i + 2 * w));
                Vector512<T> z3 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + 3 * w), Vector512.LoadUnsafe(ref ry, i + 3 * w));
                z0.StoreUnsafe(ref rz, i);
                z1.StoreUnsafe(ref rz, i + w);
                z2.StoreUnsafe(ref rz, i + 2 * w);
                z3.StoreUnsafe(ref rz, i + 3 * w);
            }
            for (; i + w <= n; i += w)
                op.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i)).StoreUnsafe(ref rz, i);
        }
        else if (Simd.Use256)
        {
            nuint w = (nuint)Vector256<T>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                Vector256<T> z0 = op.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i));
                Vector256<T> z1 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + w), Vector256.LoadUnsafe(ref ry, i + w));
                Vector256<T> z2 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + 2 * w), Vector256.LoadUnsafe(ref ry, i + 2 * w));
                Vector256<T> z3 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + 3 * w), Vector256.LoadUnsafe(ref ry, i + 3 * w));
                z0.StoreUnsafe(ref rz, i);
                z1.StoreUnsafe(ref rz, i + w);
                z2.StoreUnsafe(ref rz, i + 2 * w);
                z3.StoreUnsafe(ref rz, i + 3 * w);
            }
            for (; i + w <= n; i += w)
                op.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i)).StoreUnsafe(ref rz, i);
        }
        for (; i < n; i++) Unsafe.Add(ref rz, i) = op.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i));
    }

    /// <summary>w[i] = op(x[i], y[i], z[i]) for an operator without parameters.</summary>
    public static void Ternary<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> w)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, ITernaryOperator<T> =>
        Ternary(default(TOp), x, y, z, w);

    /// <summary>w[i] = op(x[i], y[i], z[i]).</summary>
    public static void Ternary<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> w)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, ITernaryOperator<T>
    {
        Debug.Assert(x.Length == y.Length && x.Length == z.Length && x.Length == w.Length);
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rz = ref MemoryMarshal.GetReference(z);
        ref T rw = ref MemoryMarshal.GetReference(w);
        nuint n = (nuint)x.Length, i = 0;
        if (Simd.Use512)
        {
            nuint c = (nuint)Vector512<T>.Count;
            for (; i + 2 * c <= n; i += 2 * c)
            {
                Vector512<T> w0 = op.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i), Vector512.LoadUnsafe(ref rz, i));
                Vector512<T> w1 = op.Invoke(Vector512.LoadUnsafe(ref rx, i + c), Vector512.LoadUnsafe(ref ry, i + c), Vector512.LoadUnsafe(ref rz, i + c));
                w0.StoreUnsafe(ref rw, i);
                w1.StoreUnsafe(ref rw, i + c);
            }
            for (; i + c <= n; i += c)
                op.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i), Vector512.LoadUnsafe(ref rz, i)).StoreUnsafe(ref rw, i);
        }
        else if (Simd.Use256)
        {
            nuint c = (nuint)Vector256<T>.Count;
            for (; i + 2 * c <= n; i += 2 * c)
            {
                Vector256<T> w0 = op.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i), Vector256.LoadUnsafe(ref rz, i));
                Vector256<T> w1 = op.Invoke(Vector256.LoadUnsafe(ref rx, i + c), Vector256.LoadUnsafe(ref ry, i + c), Vector256.LoadUnsafe(ref rz, i + c));
                w0.StoreUnsafe(ref rw, i);
                w1.StoreUnsafe(ref rw, i + c);
            }
            for (; i + c <= n; i += c)
                op.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i), Vector256.LoadUnsafe(ref rz, i)).StoreUnsafe(ref rw, i);
        }
        for (; i < n; i++) Unsafe.Add(ref rw, i) = op.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i), Unsafe.Add(ref rz, i));
    }

    /// <summary>
    /// ⊕ᵢ f(x[i]) (e.g. Σ x², max x). Vector levels keep four accumulators (so the adds overlap), combine them as
    /// (a₀ ⊕ a₁) ⊕ (a₂ ⊕ a₃), reduce across the lanes, then fold in the scalar tail: the grouping depends on the level
    /// but not on anything else, so a level gives the same bits every time.
    /// </summary>
    public static T Aggregate<T, TTransform, TAggregate>(TTransform f, ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTransform : struct, IUnaryOperator<T>
        where TAggregate : struct, IAggregationOperator<T>
    {
        TAggregate agg = default;
        ref T rx = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length, i = 0;
        T result = agg.Identity;
        if (Simd.Use512)
        {
            nuint w = (nuint)Vector512<T>.Count;
            if (n >= w)
            {
                Vector512<T> a0 = Vector512.Create(agg.Identity), a1 = a0, a2 = a0, a3 = a0;
                for (; i + 4 * w <= n; i += 4 * w)
                {
                    a0 = agg.Invoke(a0, f.Invoke(Vector512.LoadUnsafe(ref rx, i)));
                    a1 = agg.Invoke(a1, f.Invoke(Vector512.LoadUnsafe(ref rx, i + w)));
                    a2 = agg.Invoke(a2, f.Invoke(Vector512.LoadUnsafe(ref rx, i + 2 * w)));
                    a3 = agg.Invoke(a3, f.Invoke(Vector512.LoadUnsafe(ref rx, i + 3 * w)));
                }
                for (; i + w <= n; i += w) a0 = agg.Invoke(a0, f.Invoke(Vector512.LoadUnsafe(ref rx, i)));
                result = agg.Reduce(agg.Invoke(agg.Invoke(a0, a1), agg.Invoke(a2, a3)));
            }
        }
        else if (Simd.Use256)
        {
            nuint w = (nuint)Vector256<T>.Count;
            if (n >= w)
            {
                Vector256<T> a0 = Vector256.Create(agg.Identity), a1 = a0, a2 = a0, a3 = a0;
                for (; i + 4 * w <= n; i += 4 * w)
                {
                    a0 = agg.Invoke(a0, f.Invoke(Vector256.LoadUnsafe(ref rx, i)));
                    a1 = agg.Invoke(a1, f.Invoke(Vector256.LoadUnsafe(ref rx, i + w)));
                    a2 = agg.Invoke(a2, f.Invoke(Vector256.LoadUnsafe(ref rx, i + 2 * w)));
                    a3 = agg.Invoke(a3, f.Invoke(Vector256.LoadUnsafe(ref rx, i + 3 * w)));
                }
                for (; i + w <= n; i += w) a0 = agg.Invoke(a0, f.Invoke(Vector256.LoadUnsafe(ref rx, i)));
                result = agg.Reduce(agg.Invoke(agg.Invoke(a0, a1), agg.Invoke(a2, a3)));
            }
        }
        for (; i < n; i++) result = agg.Invoke(result, f.Invoke(Unsafe.Add(ref rx, i)));
        return result;
    }

    /// <summary>⊕ᵢ f(x[i], y[i]) (e.g. the dot product Σ x·y), grouped as in the unary form.</summary>
    public static T Aggregate<T, TTransform, TAggregate>(TTransform f, ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTransform : struct, IBinaryOperator<T>
        where TAggregate : struct, IAggregationOperator<T>
    {
        Debug.Assert(x.Length == y.Length);
        TAggregate agg = default;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length, i = 0;
        T result = agg.Identity;
        if (Simd.Use512)
        {
            nuint w = (nuint)Vector512<T>.Count;
            if (n >= w)
            {
                Vector512<T> a0 = Vector512.Create(agg.Identity), a1 = a0, a2 = a0, a3 = a0;
                for (; i + 4 * w <= n; i += 4 * w)
                {
                    a0 = agg.Invoke(a0, f.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i)));
                    a1 = agg.Invoke(a1, f.Invoke(Vector512.LoadUnsafe(ref rx, i + w), Vector512.LoadUnsafe(ref ry, i + w)));
                    a2 = agg.Invoke(a2, f.Invoke(Vector512.LoadUnsafe(ref rx, i + 2 * w), Vector512.LoadUnsafe(ref ry, i + 2 * w)));
                    a3 = agg.Invoke(a3, f.Invoke(Vector512.LoadUnsafe(ref rx, i + 3 * w), Vector512.LoadUnsafe(ref ry, i + 3 * w)));
                }
                for (; i + w <= n; i += w) a0 = agg.Invoke(a0, f.Invoke(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref ry, i)));
                result = agg.Reduce(agg.Invoke(agg.Invoke(a0, a1), agg.Invoke(a2, a3)));
            }
        }
        else if (Simd.Use256)
        {
            nuint w = (nuint)Vector256<T>.Count;
            if (n >= w)
            {
                Vector256<T> a0 = Vector256.Create(agg.Identity), a1 = a0, a2 = a0, a3 = a0;
                for (; i + 4 * w <= n; i += 4 * w)
                {
                    a0 = agg.Invoke(a0, f.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i)));
                    a1 = agg.Invoke(a1, f.Invoke(Vector256.LoadUnsafe(ref rx, i + w), Vector256.LoadUnsafe(ref ry, i + w)));
                    a2 = agg.Invoke(a2, f.Invoke(Vector256.LoadUnsafe(ref rx, i + 2 * w), Vector256.LoadUnsafe(ref ry, i + 2 * w)));
                    a3 = agg.Invoke(a3, f.Invoke(Vector256.LoadUnsafe(ref rx, i + 3 * w), Vector256.LoadUnsafe(ref ry, i + 3 * w)));
                }
                for (; i + w <= n; i += w) a0 = agg.Invoke(a0, f.Invoke(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref ry, i)));
                result = agg.Reduce(agg.Invoke(agg.Invoke(a0, a1), agg.Invoke(a2, a3)));
            }
        }
        for (; i < n; i++) result = agg.Invoke(result, f.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i)));
        return result;
    }
}
