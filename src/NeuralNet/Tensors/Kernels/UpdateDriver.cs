using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The loop of every optimizer step: θ[i] ← op(θ[i], g[i], s₀[i], s₁[i], s₂[i]) with the states updated in place
/// (<see cref="IUpdateOperator{T}"/>). Dispatch as in <see cref="ElementwiseDriver"/>: Vector512 when
/// <see cref="Simd.Use512"/>, else Vector256 when <see cref="Simd.Use256"/>, then a scalar tail.
/// </summary>
public static class UpdateDriver
{
    /// <summary>
    /// Runs <paramref name="op"/> over θ and g. The states are packed: s₀, s₁, s₂ in that order are θ's length until the
    /// first empty one, and the rest are empty too (a state the optimizer does not keep: the operator sees zeros and
    /// nothing is stored). Each count of states gets its own loop, without branches.
    /// </summary>
    public static void Update<T, TOp>(TOp op, Span<T> theta, ReadOnlySpan<T> grad, Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        Debug.Assert(grad.Length == theta.Length);
        Debug.Assert(s0.IsEmpty ? s1.IsEmpty && s2.IsEmpty : s0.Length == theta.Length);
        Debug.Assert(s1.IsEmpty ? s2.IsEmpty : s1.Length == theta.Length);
        Debug.Assert(s2.IsEmpty || s2.Length == theta.Length);
        if (!s2.IsEmpty) Run<T, TOp, Three>(op, theta, grad, s0, s1, s2);
        else if (!s1.IsEmpty) Run<T, TOp, Two>(op, theta, grad, s0, s1, s2);
        else if (!s0.IsEmpty) Run<T, TOp, One>(op, theta, grad, s0, s1, s2);
        else Run<T, TOp, Zero>(op, theta, grad, s0, s1, s2);
    }

    private static void Run<T, TOp, TStates>(TOp op, Span<T> theta, ReadOnlySpan<T> grad, Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T> where TStates : struct, IStateCount
    {
        // TStates.Count is a constant in each instantiation, so the state loads and stores below compile to straight code.
        ref T rt = ref MemoryMarshal.GetReference(theta);
        ref T rg = ref MemoryMarshal.GetReference(grad);
        ref T r0 = ref MemoryMarshal.GetReference(s0);
        ref T r1 = ref MemoryMarshal.GetReference(s1);
        ref T r2 = ref MemoryMarshal.GetReference(s2);
        nuint n = (nuint)theta.Length, i = 0;
        if (Simd.Use512)
        {
            nuint w = (nuint)Vector512<T>.Count;
            for (; i + w <= n; i += w)
            {
                Vector512<T> a = TStates.Count > 0 ? Vector512.LoadUnsafe(ref r0, i) : default;
                Vector512<T> b = TStates.Count > 1 ? Vector512.LoadUnsafe(ref r1, i) : default;
                Vector512<T> c = TStates.Count > 2 ? Vector512.LoadUnsafe(ref r2, i) : default;
                op.Invoke(Vector512.LoadUnsafe(ref rt, i), Vector512.LoadUnsafe(ref rg, i), ref a, ref b, ref c).StoreUnsafe(ref rt, i);
                if (TStates.Count > 0) a.StoreUnsafe(ref r0, i);
                if (TStates.Count > 1) b.StoreUnsafe(ref r1, i);
                if (TStates.Count > 2) c.StoreUnsafe(ref r2, i);
            }
        }
        else if (Simd.Use256)
        {
            nuint w = (nuint)Vector256<T>.Count;
            for (; i + w <= n; i += w)
            {
                Vector256<T> a = TStates.Count > 0 ? Vector256.LoadUnsafe(ref r0, i) : default;
                Vector256<T> b = TStates.Count > 1 ? Vector256.LoadUnsafe(ref r1, i) : default;
                Vector256<T> c = TStates.Count > 2 ? Vector256.LoadUnsafe(ref r2, i) : default;
                op.Invoke(Vector256.LoadUnsafe(ref rt, i), Vector256.LoadUnsafe(ref rg, i), ref a, ref b, ref c).StoreUnsafe(ref rt, i);
                if (TStates.Count > 0) a.StoreUnsafe(ref r0, i);
                if (TStates.Count > 1) b.StoreUnsafe(ref r1, i);
                if (TStates.Count > 2) c.StoreUnsafe(ref r2, i);
            }
        }
        for (; i < n; i++)
        {
            T a = TStates.Count > 0 ? Unsafe.Add(ref r0, i) : T.Zero;
            T b = TStates.Count > 1 ? Unsafe.Add(ref r1, i) : T.Zero;
            T c = TStates.Count > 2 ? Unsafe.Add(ref r2, i) : T.Zero;
            Unsafe.Add(ref rt, i) = op.Invoke(Unsafe.Add(ref rt, i), Unsafe.Add(ref rg, i), ref a, ref b, ref c);
            if (TStates.Count > 0) Unsafe.Add(ref r0, i) = a;
            if (TStates.Count > 1) Unsafe.Add(ref r1, i) = b;
            if (TStates.Count > 2) Unsafe.Add(ref r2, i) = c;
        }
    }

    /// <summary>How many state spans a loop reads and writes, as a type the JIT specializes on.</summary>
    private interface IStateCount
    {
        static abstract int Count { get; }
    }

    private readonly struct Zero : IStateCount
    {
        public static int Count => 0;
    }

    private readonly struct One : IStateCount
    {
        public static int Count => 1;
    }

    private readonly struct Two : IStateCount
    {
        public static int Count => 2;
    }

    private readonly struct Three : IStateCount
    {
        public static int Count => 3;
    }
}
