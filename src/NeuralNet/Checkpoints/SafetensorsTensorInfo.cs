namespace NeuralNet.Checkpoints;

/// <summary>One tensor's entry in a safetensors header, as validated by <see cref="SafetensorsReader"/>.</summary>
/// <param name="Name">The tensor's name, e.g. "0.weight".</param>
/// <param name="DType">The dtype as the header spells it: "F32", "F64", "BF16", "I64", ….</param>
/// <param name="Shape">The extents, outermost first (u64, as the format allows; empty for a scalar).</param>
/// <param name="Begin">Where its bytes start, counted from the start of the data buffer (after the header).</param>
/// <param name="End">Where its bytes end (exclusive), from the same origin.</param>
public sealed record SafetensorsTensorInfo(string Name, string DType, IReadOnlyList<ulong> Shape, long Begin, long End)
{
    /// <summary>The number of data bytes, <see cref="End"/> − <see cref="Begin"/>.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape as error messages print shapes (see <see cref="Tensors.Shape"/>): (128, 784), (16,), ().</summary>
    public string ShapeText => Shape.Count == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";
}
