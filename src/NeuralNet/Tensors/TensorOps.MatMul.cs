using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

// Matrix products and the row/column broadcasts and sums that go with them (bias add, bias gradient).
public static partial class TensorOps
{
    /// <summary>
    /// C = op(A)·op(B), or C += op(A)·op(B) with <paramref name="accumulate"/>; op(X) is X, or Xᵀ when its transpose flag
    /// is set. Shapes: op(A) (m, k), op(B) (k, n), C (m, n), all rank 2 and row-major.
    /// </summary>
    /// <example><code>
    /// TensorOps.MatMul(gradOutput, x, weightGrad, transposeA: true, accumulate: true);   // dW += dyᵀ·x
    /// </code></example>
    /// <remarks><paramref name="split"/> says how the kernel threads share the product (<see cref="MatMulSplit"/>); the result does not depend on it.</remarks>
    public static void MatMul<T>(Tensor<T> a, Tensor<T> b, Tensor<T> c, bool transposeA = false, bool transposeB = false, bool accumulate = false,
        MatMulSplit split = MatMulSplit.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank != 2 || b.Rank != 2 || c.Rank != 2) ThrowMatMul(a.Shape, b.Shape, c.Shape, transposeA, transposeB, "every operand must have rank 2");
        int m = transposeA ? a.Shape[1] : a.Shape[0], k = transposeA ? a.Shape[0] : a.Shape[1];
        int kb = transposeB ? b.Shape[1] : b.Shape[0], n = transposeB ? b.Shape[0] : b.Shape[1];
        if (kb != k) ThrowMatMul(a.Shape, b.Shape, c.Shape, transposeA, transposeB, $"the inner dimensions {k} and {kb} differ");
        if (c.Shape[0] != m || c.Shape[1] != n) ThrowMatMul(a.Shape, b.Shape, c.Shape, transposeA, transposeB, $"the result must be ({m}, {n})");
        Gemm.Multiply(transposeA, transposeB, m, n, k, T.One, a.ReadOnlySpan, a.Shape[1], b.ReadOnlySpan, b.Shape[1],
            accumulate ? T.One : T.Zero, c.Span, n, split);
    }

    /// <summary>
    /// C = op(A)·op(B), or C += op(A)·op(B) with <paramref name="accumulate"/>, on contiguous row-major spans:
    /// op(A) is (m, k) (A stored (k, m) when transposed), op(B) is (k, n) (B stored (n, k) when transposed), C is (m, n).
    /// </summary>
    public static void MatMul<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemm.Multiply(transposeA, transposeB, m, n, k, T.One, a, transposeA ? m : k, b, transposeB ? k : n,
            accumulate ? T.One : T.Zero, c, n);

    /// <summary>
    /// destination[i, …] = source[rows[i], …] for i &lt; rows.Length: a mini-batch gathered from a data set (N, …) by
    /// index, on the kernels' threads. Row indices are checked; the destination needs at least rows.Length rows.
    /// </summary>
    public static void GatherRows<T>(Tensor<T> source, ReadOnlySpan<int> rows, Tensor<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = source.Rows == 0 ? 0 : source.Length / source.Rows;
        if (destination.Rows < rows.Length || (destination.Rows == 0 ? 0 : destination.Length / destination.Rows) != cols)
            throw new ShapeMismatchException($"GatherRows: {rows.Length} rows of source {source.Shape} do not fit destination {destination.Shape}.");
        RowGather<T>.Run(source.ReadOnlySpan, cols, rows, destination.Span);
    }

    /// <summary>
    /// destination[i, …] = source[rows[i], …] / <paramref name="divisor"/>: a mini-batch gathered from samples kept as bytes
    /// (<paramref name="rowLength"/> bytes each), on the kernels' threads. Each value is the correctly rounded quotient, so
    /// it is the same on every instruction set and thread count. Row indices are checked.
    /// </summary>
    public static void GatherRows<T>(ReadOnlySpan<byte> source, int rowLength, T divisor, ReadOnlySpan<int> rows, Tensor<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
        if (destination.Rows < rows.Length || (destination.Rows == 0 ? 0 : destination.Length / destination.Rows) != rowLength)
            throw new ShapeMismatchException($"GatherRows: {rows.Length} rows of {rowLength} bytes do not fit destination {destination.Shape}.");
        ByteRowGather<T>.Run(source, rowLength, divisor, rows, destination.Span);
    }

    /// <summary>
    /// A gather (<see cref="GatherRows{T}(Tensor{T}, ReadOnlySpan{int}, Tensor{T})"/> or its byte form) run by kernel threads
    /// that have nothing else to do, while the caller goes on (the batch loader gathers the next batch during the step on the
    /// current one); <see cref="Finish"/> copies what is left and returns when the destination is complete. One per owner.
    /// </summary>
    internal sealed class GatherInBackground<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly BackgroundRowGather<T> _job = new();

        /// <summary>Starts destination[i, …] = source[rows[i], …]; the rows are copied, the tensors must stay untouched until <see cref="Finish"/>.</summary>
        public void Start(Tensor<T> source, ReadOnlySpan<int> rows, Tensor<T> destination)
        {
            int cols = source.Rows == 0 ? 0 : source.Length / source.Rows;
            Check(source.Length, cols, rows, destination);
            _job.Start(source.Buffer, source.Offset, default, T.One, fromBytes: false, cols, rows, destination.Buffer, destination.Offset);
        }

        /// <summary>Starts destination[i, …] = source[rows[i], …] / divisor for rows of <paramref name="rowLength"/> bytes.</summary>
        public void Start(ReadOnlyMemory<byte> source, int rowLength, T divisor, ReadOnlySpan<int> rows, Tensor<T> destination)
        {
            Check(source.Length, rowLength, rows, destination);
            _job.Start([], 0, source, divisor, fromBytes: true, rowLength, rows, destination.Buffer, destination.Offset);
        }

        /// <summary>Waits for the gather started last (running its remaining rows here); nothing when none is pending.</summary>
        public void Finish() => _job.Finish();

        private static void Check(long sourceLength, int cols, ReadOnlySpan<int> rows, Tensor<T> destination)
        {
            if (destination.Rows < rows.Length || (destination.Rows == 0 ? 0 : destination.Length / destination.Rows) != cols)
                throw new ShapeMismatchException($"GatherInBackground: {rows.Length} rows of {cols} do not fit destination {destination.Shape}.");
            GatherChecks.Check("GatherInBackground", sourceLength, cols, rows, destination.Length);
        }
    }

    /// <summary>destination[i] = source[i] / <paramref name="divisor"/>: values kept as bytes, decoded (correctly rounded quotients).</summary>
    public static void DecodeBytes<T>(ReadOnlySpan<byte> source, T divisor, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (source.Length != destination.Length)
            throw new ShapeMismatchException($"DecodeBytes: {source.Length} bytes for {destination.Length} values.");
        ByteRowGather<T>.Decode(source, divisor, destination);
    }

    /// <summary>Every row of <paramref name="matrix"/> (N, F) is set to <paramref name="v"/> (F): y = 1·bᵀ, the start of a bias add.</summary>
    public static void BroadcastRows<T>(Tensor<T> v, Tensor<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (v.Rank != 1 || matrix.Rank != 2 || matrix.Shape[1] != v.Length)
            throw new ShapeMismatchException($"BroadcastRows: vector {v.Shape} does not fit the rows of {matrix.Shape}; expected (N, {v.Length}).");
        RowOps.BroadcastRows<T>(v.ReadOnlySpan, matrix.Span);
    }

    /// <summary>sums += Σₙ matrix[n, :]: matrix (N, F), sums (F) (a bias gradient, db += Σₙ dy).</summary>
    public static void AccumulateColumnSums<T>(Tensor<T> matrix, Tensor<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (sums.Rank != 1 || matrix.Rank != 2 || matrix.Shape[1] != sums.Length)
            throw new ShapeMismatchException($"AccumulateColumnSums: sums {sums.Shape} do not fit the columns of {matrix.Shape}; expected (N, {sums.Length}).");
        RowOps.AccumulateColumnSums<T>(matrix.ReadOnlySpan, sums.Span);
    }

    /// <summary>matrix[r, :] = v[r]: a (v.Length, P) row-major matrix filled row by row (a per-channel bias over a plane).</summary>
    public static void BroadcastColumns<T>(ReadOnlySpan<T> v, Span<T> matrix) where T : unmanaged, IFloatingPointIeee754<T> =>
        RowOps.BroadcastColumns(v, matrix);

    /// <summary>sums[r] += Σⱼ matrix[r, j]: a (sums.Length, P) row-major matrix (a convolution's bias gradient, Σ over the plane).</summary>
    public static void AccumulateRowSums<T>(ReadOnlySpan<T> matrix, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T> =>
        RowOps.AccumulateRowSums(matrix, sums);

    [DoesNotReturn]
    private static void ThrowMatMul(Shape a, Shape b, Shape c, bool transposeA, bool transposeB, string problem) =>
        throw new ShapeMismatchException(
            $"MatMul: A {a}{(transposeA ? "ᵀ" : "")} · B {b}{(transposeB ? "ᵀ" : "")} into C {c}: {problem}.");
}
