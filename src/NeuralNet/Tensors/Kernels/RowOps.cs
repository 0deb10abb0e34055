using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Kernels over the rows of a row-major (rows × cols) matrix: bias add and broadcast, row and column sums, and the
/// numerically stable softmax family. Built from the <see cref="Elementwise"/> kernels, so they follow
/// <see cref="Simd.Active"/>; no allocation.
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

    /// <summary>Row r of <paramref name="matrix"/> (v.Length × cols) is set to v[r] everywhere (a per-channel bias over a plane).</summary>
    public static void BroadcastColumns<T>(ReadOnlySpan<T> v, Span<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = v.Length;
        CheckDivisible(matrix.Length, rows, nameof(BroadcastColumns));
        int cols = matrix.Length / rows;
        for (int r = 0; r < rows; r++) matrix.Slice(r * cols, cols).Fill(v[r]);
    }

    /// <summary>matrix[r, :] += v for every row r (the bias add).</summary>
    public static void AddRowVector<T>(Span<T> matrix, ReadOnlySpan<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = v.Length;
        CheckDivisible(matrix.Length, cols, nameof(AddRowVector));
        for (int r = 0; r < matrix.Length; r += cols)
        {
            var row = matrix.Slice(r, cols);
            Elementwise.Add(row, v, row);
        }
    }

    /// <summary>sums[j] += Σᵣ matrix[r, j] (a bias gradient: the batch sum of dy), row after row.</summary>
    public static void AccumulateColumnSums<T>(ReadOnlySpan<T> matrix, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = sums.Length;
        CheckDivisible(matrix.Length, cols, nameof(AccumulateColumnSums));
        for (int r = 0; r < matrix.Length; r += cols) Elementwise.Add(sums, matrix.Slice(r, cols), sums);
    }

    /// <summary>sums[r] += Σⱼ matrix[r, j] for a (sums.Length × cols) matrix (a convolution's bias gradient: Σ over the plane).</summary>
    public static void AccumulateRowSums<T>(ReadOnlySpan<T> matrix, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = sums.Length;
        CheckDivisible(matrix.Length, rows, nameof(AccumulateRowSums));
        int cols = matrix.Length / rows;
        for (int r = 0; r < rows; r++) sums[r] += Elementwise.Sum(matrix.Slice(r * cols, cols));
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
            T max = Elementwise.Max(xr);
            ElementwiseDriver.Unary(new Elementwise.ShiftedExpOperator<T>(max), xr, yr);
            T sum = Elementwise.Sum<T>(yr);
            ElementwiseDriver.Unary(new Elementwise.DivideScalarOperator<T>(sum), yr, yr);
        }
    }

    /// <summary>
    /// log Σ exp(x) of one row, computed as m + log Σ exp(x − m) with m the row max;
    /// <paramref name="scratch"/> holds one row.
    /// </summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> row, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(row.Length, scratch.Length, nameof(LogSumExp));
        T max = Elementwise.Max(row);
        ElementwiseDriver.Unary(new Elementwise.ShiftedExpOperator<T>(max), row, scratch);
        return max + T.Log(Elementwise.Sum<T>(scratch));
    }

    /// <summary>
    /// Per row: lse[r] = log Σ exp(x[r, :]) (<see cref="LogSumExp{T}"/>) and p[r, :] = exp(x[r, :] − lse[r]), the softmax
    /// as cross-entropy uses it (log p = x − lse exactly as computed).
    /// </summary>
    public static void LogSoftmaxParts<T>(ReadOnlySpan<T> x, Span<T> p, Span<T> lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Elementwise.CheckLengths(x.Length, p.Length, nameof(LogSoftmaxParts));
        if (lse.IsEmpty && x.IsEmpty) return;
        CheckDivisible(x.Length, lse.Length, nameof(LogSoftmaxParts));
        int cols = x.Length / lse.Length;
        for (int r = 0; r < lse.Length; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var pr = p.Slice(r * cols, cols);
            lse[r] = LogSumExp(xr, pr);
            ElementwiseDriver.Unary(new Elementwise.ShiftedExpOperator<T>(lse[r]), xr, pr);
        }
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
            T dot = Elementwise.Dot(dyr, yr);
            ElementwiseDriver.Binary(new Elementwise.SubtractMultiplyOperator<T>(dot), dyr, yr, dxr);
        }
    }

    private static void CheckDivisible(int length, int cols, string operation)
    {
        if (cols <= 0 || length % cols != 0)
            throw new ShapeMismatchException($"{operation}: {length} elements are not a whole number of rows of {cols}.");
    }
}

/// <summary>The checks and the part size the row gathers share.</summary>
internal static class GatherChecks
{
    /// <summary>
    /// Throws unless the destination holds rows.Length rows of <paramref name="cols"/> and every row index is a row of the
    /// source (<paramref name="sourceLength"/> values, rows of <paramref name="cols"/>); messages name the operation.
    /// </summary>
    public static void Check(string operation, long sourceLength, int cols, ReadOnlySpan<int> rows, long destinationLength)
    {
        if (destinationLength < (long)rows.Length * cols)
            throw new ShapeMismatchException($"{operation}: {rows.Length} rows of {cols} need {(long)rows.Length * cols} values, the destination has {destinationLength}.");
        long sourceRows = cols == 0 ? 0 : sourceLength / cols;
        foreach (int r in rows)
        {
            if ((uint)r >= (ulong)sourceRows)
                throw new ArgumentOutOfRangeException(nameof(rows), r, $"{operation}: row {r} of a source with {sourceRows} rows.");
        }
    }

    /// <summary>Rows per part, so that a part writes at least 16 KB: handing it to a thread costs less than copying it.</summary>
    public static int RowsPerPart(int cols, int elementSize) => Math.Max(1, (16 << 10) / Math.Max(1, cols * elementSize));
}

/// <summary>
/// destination[i, :] = source[rows[i], :]: a mini-batch gathered from a data set. The rows are fetched by the kernels'
/// threads (each copy waits on memory, so two threads halve the wait); every row is one copy, so the bytes do not
/// depend on the thread count.
/// </summary>
internal sealed unsafe class RowGather<T> : IParallelWork where T : unmanaged
{
    [ThreadStatic] private static RowGather<T>? t_job;

    private T* _source, _destination;
    private int* _rows;
    private int _count, _cols, _perPart;

    /// <summary>Copies the rows (source: (R, cols); destination: (rows.Length, cols)); indices are checked.</summary>
    public static void Run(ReadOnlySpan<T> source, int cols, ReadOnlySpan<int> rows, Span<T> destination)
    {
        GatherChecks.Check("RowGather", source.Length, cols, rows, destination.Length);
        int perPart = GatherChecks.RowsPerPart(cols, sizeof(T));
        int parts = (rows.Length + perPart - 1) / perPart;
        fixed (T* s = source, d = destination)
        fixed (int* r = rows)
        {
            var job = t_job ??= new RowGather<T>();
            job._source = s;
            job._destination = d;
            job._rows = r;
            (job._count, job._cols, job._perPart) = (rows.Length, cols, perPart);
            Parallelism.Run(job, parts);
        }
    }

    public void Execute(int part)
    {
        long bytes = (long)_cols * sizeof(T);
        int end = Math.Min(_count, (part + 1) * _perPart);
        for (int i = part * _perPart; i < end; i++)
            Buffer.MemoryCopy(_source + (long)_rows[i] * _cols, _destination + (long)i * _cols, bytes, bytes);
    }
}

/// <summary>
/// destination[i, :] = source[rows[i], :] / divisor for samples kept as bytes (<see cref="RowGather{T}"/> with a decode):
/// integers to T are exact and the division is correctly rounded in both the vector and the scalar form, so every value
/// is the scalar x = b / divisor whatever the instruction set, the thread count or the row's position.
/// </summary>
internal sealed unsafe class ByteRowGather<T> : IParallelWork where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static ByteRowGather<T>? t_job;

    private byte* _source;
    private T* _destination;
    private int* _rows;
    private int _count, _cols, _perPart;
    private T _divisor;

    /// <summary>Decodes the rows (source: (R, cols) bytes; destination: (rows.Length, cols)); indices are checked.</summary>
    public static void Run(ReadOnlySpan<byte> source, int cols, T divisor, ReadOnlySpan<int> rows, Span<T> destination)
    {
        GatherChecks.Check("ByteRowGather", source.Length, cols, rows, destination.Length);
        int perPart = GatherChecks.RowsPerPart(cols, sizeof(T));
        int parts = (rows.Length + perPart - 1) / perPart;
        fixed (byte* s = source)
        fixed (T* d = destination)
        fixed (int* r = rows)
        {
            var job = t_job ??= new ByteRowGather<T>();
            job._source = s;
            job._destination = d;
            job._rows = r;
            job._divisor = divisor;
            (job._count, job._cols, job._perPart) = (rows.Length, cols, perPart);
            Parallelism.Run(job, parts);
        }
    }

    /// <summary>destination[i] = source[i] / divisor on the calling thread.</summary>
    public static void Decode(ReadOnlySpan<byte> source, T divisor, Span<T> destination)
    {
        fixed (byte* s = source)
        fixed (T* d = destination)
            Decode(s, d, Math.Min(source.Length, destination.Length), divisor);
    }

    public void Execute(int part)
    {
        int end = Math.Min(_count, (part + 1) * _perPart);
        for (int i = part * _perPart; i < end; i++)
            Decode(_source + (long)_rows[i] * _cols, _destination + (long)i * _cols, _cols, _divisor);
    }

    internal static void Decode(byte* source, T* destination, int n, T divisor)
    {
        int i = 0;
        if (typeof(T) == typeof(float) && Simd.Use256 && Avx2.IsSupported)
        {
            var d = Vector256.Create(float.CreateTruncating(divisor));
            float* y = (float*)destination;
            for (; i + 8 <= n; i += 8)
                Avx.Store(y + i, Avx.Divide(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(source + i)), d));
        }
        for (; i < n; i++) destination[i] = T.CreateTruncating(source[i]) / divisor;
    }
}

/// <summary>
/// A gather run in the background (<see cref="Parallelism.Post"/>): rows copied (or decoded from bytes) by helper threads
/// between kernel runs while the caller works on something else, finished by <see cref="Finish"/>. Holds array references,
/// not pointers, since the caller runs managed code (and the collector) meanwhile; a part pins only while it copies.
/// </summary>
internal sealed unsafe class BackgroundRowGather<T> : IParallelWork where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int RowsPerPart = 4; // a few microseconds: a helper holding a part joins the next kernel run late by no more

    private T[] _source = [], _destination = [];
    private ReadOnlyMemory<byte> _bytes;
    private T _divisor;
    private int[] _rows = [];
    private int _sourceOffset, _destinationOffset, _count, _cols;
    private bool _fromBytes, _posted;

    /// <summary>Starts destination[i, :] = source[rows[i], :] (a tensor's rows, or bytes divided by a divisor).</summary>
    public void Start(T[] source, int sourceOffset, ReadOnlyMemory<byte> bytes, T divisor, bool fromBytes, int cols,
        ReadOnlySpan<int> rows, T[] destination, int destinationOffset)
    {
        Finish();
        if (_rows.Length < rows.Length) _rows = new int[rows.Length];
        rows.CopyTo(_rows);
        (_source, _sourceOffset, _bytes, _divisor, _fromBytes, _cols) = (source, sourceOffset, bytes, divisor, fromBytes, cols);
        (_destination, _destinationOffset, _count) = (destination, destinationOffset, rows.Length);
        Parallelism.Post(this, (_count + RowsPerPart - 1) / RowsPerPart);
        _posted = true;
    }

    /// <summary>Completes the gather started last (the caller copies what no helper took); nothing when none is pending.</summary>
    public void Finish()
    {
        if (!_posted) return;
        _posted = false;
        Parallelism.Complete(this);
    }

    public void Execute(int part)
    {
        int end = Math.Min(_count, (part + 1) * RowsPerPart);
        for (int i = part * RowsPerPart; i < end; i++)
        {
            var to = _destination.AsSpan(_destinationOffset + i * _cols, _cols);
            if (!_fromBytes)
            {
                _source.AsSpan(_sourceOffset + _rows[i] * _cols, _cols).CopyTo(to);
                continue;
            }
            fixed (byte* b = _bytes.Span.Slice(_rows[i] * _cols, _cols))
            fixed (T* d = to)
                ByteRowGather<T>.Decode(b, d, _cols, _divisor);
        }
    }
}
