namespace NeuralNet.Tensors;

/// <summary>
/// The dimensions of a row-major tensor, outermost first: a batch of 128 flattened MNIST images is (128, 784).
/// Immutable; two shapes are equal when they have the same rank and the same extents.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    /// <summary>Creates a shape from its extents; every extent must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long length = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"A shape's extents must be non-negative, got {Format(dims)}.", nameof(dims));
            length *= d;
            if (length > int.MaxValue) throw new ArgumentException($"Shape {Format(dims)} has more than {int.MaxValue} elements.", nameof(dims));
        }
        _dims = (int[])dims.Clone();
        _length = (int)length;
    }

    private readonly int _length;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of elements: the product of the extents (1 for a scalar of rank 0, including <c>default(Shape)</c>).</summary>
    public int Length => _dims is null ? 1 : _length;

    /// <summary>The extent of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dims[axis < 0 ? axis + Rank : axis];

    /// <summary>A copy of the extents.</summary>
    public int[] ToArray() => (int[])(_dims ?? []).Clone();

    /// <summary>The extents as a read-only span (no copy).</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>True when both shapes have the same rank and the same extents, in order (a rank-0 shape equals <c>default(Shape)</c>).</summary>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <summary>True when <paramref name="obj"/> is a <see cref="Shape"/> equal to this one.</summary>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <summary>A hash of the extents, consistent with <see cref="Equals(Shape)"/>.</summary>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Same rank and extents: <see cref="Equals(Shape)"/>.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>A different rank or extent.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Formats as <c>(128, 784)</c>, the way error messages print shapes.</summary>
    public override string ToString() => Format(_dims ?? []);

    internal static string Format(ReadOnlySpan<int> dims)
    {
        if (dims.Length == 1) return $"({dims[0]},)";
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "(" + string.Join(", ", parts) + ")";
    }
}
