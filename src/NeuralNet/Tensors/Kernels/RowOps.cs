using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Kernels over the rows of a row-major (rows × cols) matrix: bias add, column sums over the batch,
/// and the numerically stable softmax family. Vectorized through TensorPrimitives; no allocation.
/// </summary>
public static class RowOps
{
    /// <summary>Each row of <paramref name="matrix"/> (rows × v.Length) is set to <paramref name="v"/>.</summary>
    public static void BroadcastRows<T>(ReadOnlySpan<T> v, Span<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = v.Length;
        CheckDivisible(matrix.Length, cols, nameof(BroadcastRows));
        for (int r = 0; r < matrix.Length; r += cols) v.CopyTo(matrix.Slice(r, cols));
    }

    /// <summary>matrix[r, :] += v for every row r (the bias add).</summary>
    public static void AddRowVector<T>(Span<T> matrix, ReadOnlySpan<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = v.Length;
        CheckDivisible(matrix.Length, cols, nameof(AddRowVector));
        for (int r = 0; r < matrix.Length; r += cols)
        {
            var row = matrix.Slice(r, cols);
            TensorPrimitives.Add(row, v, row);
        }
    }

    /// <summary>sums[j] += Σᵣ matrix[r, j] (a bias gradient: the batch sum of dy).</summary>
    public static void AccumulateColumnSums<T>(ReadOnlySpan<T> matrix, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = sums.Length;
        CheckDivisible(matrix.Length, cols, nameof(AccumulateColumnSums));
        for (int r = 0; r < matrix.Length; r += cols) TensorPrimitives.Add(sums, matrix.Slice(r, cols), sums);
    }

    /// <summary>
    /// y[r, :] = softmax(x[r, :]) = exp(x − max) / Σ exp(x − max). Subtracting the row maximum keeps every
    /// exponent ≤ 0, so logits of ±1000 neither overflow nor divide 0 by 0.
    /// </summary>
    public static void Softmax<T>(ReadOnlySpan<T> x, Span<T> y, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckDivisible(x.Length, cols, nameof(Softmax));
        Elementwise.CheckLengths(x.Length, y.Length, nameof(Softmax));
        for (int r = 0; r < x.Length; r += cols)
        {
            var xr = x.Slice(r, cols);
            var yr = y.Slice(r, cols);
            T max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Exp(yr, yr);
            T sum = TensorPrimitives.Sum<T>(yr);
            TensorPrimitives.Divide(yr, sum, yr);
        }
    }

    /// <summary>
    /// log Σ exp(x) of one row, computed as m + log Σ exp(x − m) with m the row max;
    /// <paramref name="scratch"/> holds one row.
    /// </summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> row, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return max + T.Log(TensorPrimitives.Sum<T>(scratch));
    }

    /// <summary>
    /// Softmax backward: dx[r, :] = y ⊙ (dy − ⟨dy, y⟩) per row, from the saved output y.
    /// (∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ), so dxⱼ = Σᵢ dyᵢ yᵢ(δᵢⱼ − yⱼ) = yⱼ(dyⱼ − Σᵢ dyᵢ yᵢ).)
    /// </summary>
    public static void SoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckDivisible(y.Length, cols, nameof(SoftmaxBackward));
        Elementwise.CheckLengths(y.Length, dy.Length, nameof(SoftmaxBackward));
        Elementwise.CheckLengths(y.Length, dx.Length, nameof(SoftmaxBackward));
        for (int r = 0; r < y.Length; r += cols)
        {
            var yr = y.Slice(r, cols);
            var dyr = dy.Slice(r, cols);
            var dxr = dx.Slice(r, cols);
            T dot = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, dot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }

    private static void CheckDivisible(int length, int cols, string operation)
    {
        if (cols <= 0 || length % cols != 0)
            throw new ShapeMismatchException($"{operation}: {length} elements are not a whole number of rows of {cols}.");
    }
}
