using System.Globalization;
using System.Numerics;
using System.Text;

namespace NeuralNet.Tensors;

/// <summary>
/// A dense, contiguous, row-major tensor of <c>float</c> or <c>double</c>.
/// Several tensors may share one buffer: <see cref="Reshape"/> and <see cref="RowRange"/> return views,
/// not copies, so a mini-batch is a window onto the data set and writing through a view changes the original.
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _data;
    private readonly int _offset;

    /// <summary>Wraps <paramref name="data"/>[offset..offset+shape.Length) without copying.</summary>
    internal Tensor(T[] data, int offset, Shape shape)
    {
        if (offset < 0 || (long)offset + shape.Length > data.Length)
            throw new ArgumentException($"A tensor of shape {shape} at offset {offset} does not fit in a buffer of {data.Length} elements.");
        _data = data;
        _offset = offset;
        Shape = shape;
    }

    /// <summary>Allocates a zero-filled tensor.</summary>
    public Tensor(params int[] dims) : this(new Shape(dims)) { }

    /// <summary>Allocates a zero-filled tensor.</summary>
    public Tensor(Shape shape) : this(new T[shape.Length], 0, shape) { }

    /// <summary>The dimensions, outermost first.</summary>
    public Shape Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Shape.Length;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Extent of the first dimension (the batch, for layer inputs).</summary>
    public int Rows => Shape.Rank == 0 ? 1 : Shape[0];

    /// <summary>Elements per row: the product of every extent after the first.</summary>
    public int RowLength => Shape.Rank == 0 ? 1 : (Shape[0] == 0 ? 0 : Length / Shape[0]);

    /// <summary>The elements, in row-major order.</summary>
    public Span<T> Span => _data.AsSpan(_offset, Length);

    /// <summary>The elements, read-only.</summary>
    public ReadOnlySpan<T> ReadOnlySpan => _data.AsSpan(_offset, Length);

    /// <summary>The backing array (shared with every view).</summary>
    internal T[] Buffer => _data;

    /// <summary>Where this tensor starts in <see cref="Buffer"/>.</summary>
    internal int Offset => _offset;

    /// <summary>Flat element access.</summary>
    public ref T this[int i]
    {
        get
        {
            if ((uint)i >= (uint)Length) throw new IndexOutOfRangeException($"Index {i} is outside a tensor of shape {Shape}.");
            return ref _data[_offset + i];
        }
    }

    /// <summary>Element (i, j) of a rank-2 tensor.</summary>
    public ref T this[int i, int j]
    {
        get
        {
            if (Rank != 2 || (uint)i >= (uint)Shape[0] || (uint)j >= (uint)Shape[1])
                throw new IndexOutOfRangeException($"Index ({i}, {j}) is outside a tensor of shape {Shape}.");
            return ref _data[_offset + i * Shape[1] + j];
        }
    }

    /// <summary>Element at a full index, one entry per dimension.</summary>
    public ref T At(params ReadOnlySpan<int> index)
    {
        if (index.Length != Rank) throw new IndexOutOfRangeException($"Index {Shape.Format(index)} has {index.Length} entries; the tensor has shape {Shape}.");
        int flat = 0;
        for (int d = 0; d < index.Length; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d]) throw new IndexOutOfRangeException($"Index {Shape.Format(index)} is outside a tensor of shape {Shape}.");
            flat = flat * Shape[d] + index[d];
        }
        return ref _data[_offset + flat];
    }

    /// <summary>Row <paramref name="i"/> (all elements whose first index is i).</summary>
    public Span<T> Row(int i)
    {
        if ((uint)i >= (uint)Rows) throw new IndexOutOfRangeException($"Row {i} is outside a tensor of shape {Shape}.");
        int n = RowLength;
        return _data.AsSpan(_offset + i * n, n);
    }

    /// <summary>A view of rows [start, start+count): a mini-batch without copying.</summary>
    public Tensor<T> RowRange(int start, int count)
    {
        if (Rank == 0) throw new InvalidOperationException("A scalar tensor has no rows.");
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside a tensor of shape {Shape}.");
        int[] dims = Shape.ToArray();
        dims[0] = count;
        return new Tensor<T>(_data, _offset + start * RowLength, new Shape(dims));
    }

    /// <summary>
    /// A view with the same elements and another shape (no copy). One extent may be -1: it is inferred.
    /// </summary>
    public Tensor<T> Reshape(params int[] dims)
    {
        int[] d = (int[])dims.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape of {Shape} to {Shape.Format(dims)}: only one extent may be -1.");
                infer = i;
            }
            else known *= d[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Length % known != 0)
                throw new ShapeMismatchException($"Reshape: cannot infer the -1 extent of {Shape.Format(dims)} from {Shape} ({Length} elements).");
            d[infer] = (int)(Length / known);
        }
        var shape = new Shape(d);
        if (shape.Length != Length)
            throw new ShapeMismatchException($"Reshape: {Shape} ({Length} elements) cannot be viewed as {shape} ({shape.Length} elements).");
        return new Tensor<T>(_data, _offset, shape);
    }

    /// <summary>A new tensor with a copy of the elements.</summary>
    public Tensor<T> Clone()
    {
        var t = new Tensor<T>(Shape);
        ReadOnlySpan.CopyTo(t.Span);
        return t;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, which must have the same shape.</summary>
    public void CopyTo(Tensor<T> destination)
    {
        ShapeMismatchException.ThrowIfDifferent("CopyTo", Shape, destination.Shape, "source", "destination");
        ReadOnlySpan.CopyTo(destination.Span);
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(T value) => Span.Fill(value);

    /// <summary>Copies the elements into a new array.</summary>
    public T[] ToArray() => ReadOnlySpan.ToArray();

    /// <summary>True when both tensors have the same shape and bit-identical elements.</summary>
    public bool ContentEquals(Tensor<T> other) => Shape == other.Shape && ReadOnlySpan.SequenceEqual(other.ReadOnlySpan);

    // ---- creation -------------------------------------------------------------------------------

    /// <summary>A zero-filled tensor.</summary>
    public static Tensor<T> Zeros(params int[] dims) => new(dims);

    /// <summary>A tensor filled with ones.</summary>
    public static Tensor<T> Ones(params int[] dims) => Full(T.One, dims);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor<T> Full(T value, params int[] dims)
    {
        var t = new Tensor<T>(dims);
        t.Fill(value);
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor<T> FromArray(ReadOnlySpan<T> values, params int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.Length != values.Length)
            throw new ShapeMismatchException($"FromArray: {values.Length} values cannot fill shape {shape} ({shape.Length} elements).");
        var t = new Tensor<T>(shape);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>A rank-2 tensor from a jagged array of equal-length rows.</summary>
    public static Tensor<T> FromRows(T[][] rows)
    {
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        var t = new Tensor<T>(rows.Length, cols);
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != cols) throw new ShapeMismatchException($"FromRows: row {i} has {rows[i].Length} values, row 0 has {cols}.");
            rows[i].CopyTo(t.Row(i));
        }
        return t;
    }

    /// <summary>A scalar (rank 0) tensor.</summary>
    public static Tensor<T> Scalar(T value)
    {
        var t = new Tensor<T>(new Shape());
        t[0] = value;
        return t;
    }

    /// <summary>Samples from N(mean, std²) using <paramref name="rng"/>.</summary>
    public static Tensor<T> RandomNormal(Rng rng, double mean, double std, params int[] dims)
    {
        var t = new Tensor<T>(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(mean + std * rng.NextNormal());
        return t;
    }

    /// <summary>Samples from U[low, high) using <paramref name="rng"/>.</summary>
    public static Tensor<T> RandomUniform(Rng rng, double low, double high, params int[] dims)
    {
        var t = new Tensor<T>(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(rng.NextDouble(low, high));
        return t;
    }

    /// <summary>Shape and (up to 6 per row, 6 rows) the first elements, for debugging.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder($"Tensor<{typeof(T).Name}>{Shape}");
        if (Length == 0) return sb.ToString();
        sb.Append(" [");
        int rows = Math.Min(Rows, 6), cols = Math.Min(RowLength, 6);
        for (int i = 0; i < rows; i++)
        {
            sb.Append(i == 0 ? "[" : ", [");
            var r = Rank == 0 ? ReadOnlySpan : ReadOnlySpan.Slice(i * RowLength, RowLength);
            for (int j = 0; j < cols; j++) sb.Append(j == 0 ? "" : ", ").Append(r[j].ToString("G6", CultureInfo.InvariantCulture));
            sb.Append(RowLength > cols ? ", …]" : "]");
        }
        sb.Append(Rows > rows ? ", …]" : "]");
        return sb.ToString();
    }
}
