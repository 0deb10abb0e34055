using System.Buffers.Binary;

namespace NeuralNet.Onnx;

/// <summary>How a protobuf field's value is laid out after its tag (the low three bits of the tag).</summary>
internal enum WireType
{
    /// <summary>A varint: int32, int64, uint32, uint64, bool, enum.</summary>
    Varint = 0,

    /// <summary>Eight little-endian bytes: fixed64, sfixed64, double.</summary>
    Fixed64 = 1,

    /// <summary>A varint byte count, then that many bytes: string, bytes, an embedded message, a packed repeated field.</summary>
    LengthDelimited = 2,

    /// <summary>Deprecated groups; ONNX uses none, so a reader may reject them.</summary>
    StartGroup = 3,

    /// <summary>The end of a deprecated group.</summary>
    EndGroup = 4,

    /// <summary>Four little-endian bytes: fixed32, sfixed32, float.</summary>
    Fixed32 = 5,
}

/// <summary>
/// The protocol-buffers wire format, byte level: tags, varints and fixed-width values, to and from spans. ONNX files
/// are protobuf messages; <see cref="ProtoWriter"/> builds them from these primitives, and a reader can walk a
/// message with the Read/TryRead forms here (tag, then the value its wire type says).
/// </summary>
/// <remarks>
/// Written by hand rather than taken from a protobuf package: the library depends on the BCL and
/// System.Numerics.Tensors only, and the few messages ONNX needs are small. The format
/// (protobuf.dev/programming-guides/encoding):
/// <code>
///   field    = tag value
///   tag      = varint(field_number &lt;&lt; 3 | wire_type)
///   varint   = 7 bits per byte, least significant group first, high bit set on every byte but the last
///              (int64 −1 is ten bytes: negative numbers are their two's-complement uint64, not zigzag)
///   fixed32  = 4 bytes little-endian (float: its IEEE 754 bits)
///   length-delimited = varint(byte count) bytes
/// </code>
/// Field numbers are 1 … 2²⁹ − 1; a message is its fields in any order, and a repeated field is the field written once per element.
/// </remarks>
internal static class ProtoWire
{
    /// <summary>The longest varint: a 64-bit value in 7-bit groups.</summary>
    public const int MaxVarintLength = 10;

    /// <summary>The largest field number protobuf allows (2²⁹ − 1).</summary>
    public const int MaxFieldNumber = (1 << 29) - 1;

    /// <summary>tag = field_number &lt;&lt; 3 | wire_type.</summary>
    public static uint Tag(int fieldNumber, WireType wireType)
    {
        if (fieldNumber < 1 || fieldNumber > MaxFieldNumber)
            throw new ArgumentOutOfRangeException(nameof(fieldNumber), fieldNumber, $"Protobuf field numbers are 1 to {MaxFieldNumber}.");
        return (uint)fieldNumber << 3 | (uint)wireType;
    }

    /// <summary>Splits a tag into its field number and wire type (the inverse of <see cref="Tag"/>).</summary>
    public static (int FieldNumber, WireType WireType) SplitTag(ulong tag) => ((int)(tag >> 3), (WireType)(tag & 7));

    /// <summary>Bytes the varint of <paramref name="value"/> takes: 1 for 0 … 127, up to 10.</summary>
    public static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Writes <paramref name="value"/> as a varint at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int WriteVarint(ulong value, Span<byte> destination)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);  // low 7 bits, "more follows"
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Reads a varint from the start of <paramref name="source"/>. False when the bytes end before the varint does or
    /// it runs past ten bytes (malformed); <paramref name="bytesRead"/> is then 0.
    /// </summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        value = 0;
        for (int i = 0; i < source.Length && i < MaxVarintLength; i++)
        {
            value |= (ulong)(source[i] & 0x7F) << (7 * i);
            if (source[i] < 0x80)
            {
                bytesRead = i + 1;
                return true;
            }
        }
        value = 0;
        bytesRead = 0;
        return false;
    }

    /// <summary>Writes a float's IEEE 754 bits as four little-endian bytes (wire type <see cref="WireType.Fixed32"/>).</summary>
    public static void WriteFloat(float value, Span<byte> destination) => BinaryPrimitives.WriteSingleLittleEndian(destination, value);

    /// <summary>Reads four little-endian bytes as a float.</summary>
    public static float ReadFloat(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadSingleLittleEndian(source);
}
