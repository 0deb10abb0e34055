using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Vectorized elementwise kernels for the activations' forward and backward passes.
/// Destination last, as in TensorPrimitives; no allocation. The loops are a Vector256 body and a scalar tail.
/// </summary>
public static class Elementwise
{
    /// <summary>y = max(x, 0).</summary>
    public static void ReluForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(ReluForward));
        TensorPrimitives.Max(x, T.Zero, y);
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (the mask is read from the output; at x = 0 the derivative is taken as 0).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(ReluBackward));
        CheckLengths(y.Length, dx.Length, nameof(ReluBackward));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            ref T ry = ref MemoryMarshal.GetReference(y);
            ref T rdy = ref MemoryMarshal.GetReference(dy);
            ref T rdx = ref MemoryMarshal.GetReference(dx);
            for (; i <= y.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256<T>.Zero);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) & mask).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = y[i] > T.Zero ? dy[i] : T.Zero;
    }

    /// <summary>y = x for x &gt; 0, slope·x otherwise.</summary>
    public static void LeakyReluForward<T>(ReadOnlySpan<T> x, T slope, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(LeakyReluForward));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vs = Vector256.Create(slope);
            ref T rx = ref MemoryMarshal.GetReference(x);
            ref T ry = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref rx, (nuint)i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<T>.Zero), v, v * vs).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : slope * x[i];
    }

    /// <summary>dx = dy for x &gt; 0, slope·dy otherwise.</summary>
    public static void LeakyReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T slope, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, dy.Length, nameof(LeakyReluBackward));
        CheckLengths(x.Length, dx.Length, nameof(LeakyReluBackward));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vs = Vector256.Create(slope);
            ref T rx = ref MemoryMarshal.GetReference(x);
            ref T rdy = ref MemoryMarshal.GetReference(dy);
            ref T rdx = ref MemoryMarshal.GetReference(dx);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var g = Vector256.LoadUnsafe(ref rdy, (nuint)i);
                var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256<T>.Zero);
                Vector256.ConditionalSelect(positive, g, g * vs).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : slope * dy[i];
    }

    /// <summary>y = σ(x) = 1 / (1 + e^(−x)).</summary>
    public static void SigmoidForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(SigmoidForward));
        if (x.IsEmpty) return; // TensorPrimitives.Sigmoid rejects empty spans
        TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary>dx = dy · y · (1 − y), from the saved output y = σ(x).</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(SigmoidBackward));
        CheckLengths(y.Length, dx.Length, nameof(SigmoidBackward));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            ref T ry = ref MemoryMarshal.GetReference(y);
            ref T rdy = ref MemoryMarshal.GetReference(dy);
            ref T rdx = ref MemoryMarshal.GetReference(dx);
            for (; i <= y.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) * v * (Vector256<T>.One - v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * y[i] * (T.One - y[i]);
    }

    /// <summary>y = tanh(x).</summary>
    public static void TanhForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, y.Length, nameof(TanhForward));
        TensorPrimitives.Tanh(x, y);
    }

    /// <summary>dx = dy · (1 − y²), from the saved output y = tanh(x).</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(y.Length, dy.Length, nameof(TanhBackward));
        CheckLengths(y.Length, dx.Length, nameof(TanhBackward));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            ref T ry = ref MemoryMarshal.GetReference(y);
            ref T rdy = ref MemoryMarshal.GetReference(dy);
            ref T rdx = ref MemoryMarshal.GetReference(dx);
            for (; i <= y.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) * (Vector256<T>.One - v * v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * (T.One - y[i] * y[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckLengths(int a, int b, string operation)
    {
        if (a != b) throw new ShapeMismatchException($"{operation}: spans of {a} and {b} elements must have the same length.");
    }
}
