using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace NeuralNet.Onnx;

/// <summary>
/// Walks one protobuf message field by field over the primitives of <see cref="ProtoWire"/>, strictly: every varint
/// ends inside the message and within ten bytes, every declared length fits in the bytes that are left (checked before
/// anything is sliced or allocated), the wire type of a known field is the one its type needs, and groups (wire types
/// 3 and 4, unused by ONNX) and the undefined wire types 6 and 7 are refused. The first problem is one
/// <see cref="InvalidDataException"/> naming the file and the field: <c>model.onnx: ModelProto.graph.initializer[2].raw_data:
/// declared length 4000000 exceeds the 52 bytes left</c>.
/// </summary>
/// <remarks>
/// A reader is a view of a span (no copy); <see cref="Message"/> returns a reader over an embedded message whose path
/// extends this one's, so errors deep in the file still say where they are. Unknown fields are skipped (protobuf's
/// forward compatibility), but their lengths are checked like any other. Repeated scalar fields are read in both
/// encodings a writer may choose: one field per element, or packed (one length-delimited field holding the elements).
/// <code>
///   var r = new ProtoReader(bytes, "model.onnx", "ModelProto");
///   while (r.Next(out int field))
///       switch (field) { case 1: irVersion = r.Int64("ir_version"); break; default: r.Skip(); break; }
/// </code>
/// </remarks>
internal ref struct ProtoReader
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private WireType _wireType;    // of the field Next returned last

    /// <summary>A reader over <paramref name="data"/>, the message at <paramref name="path"/> of file <paramref name="source"/>.</summary>
    public ProtoReader(ReadOnlySpan<byte> data, string source, string path)
    {
        _data = data;
        Source = source;
        Path = path;
    }

    /// <summary>The file (or stream) name errors start with.</summary>
    public string Source { get; }

    /// <summary>Where this message is: "ModelProto.graph.node[3]".</summary>
    public string Path { get; }

    /// <summary>
    /// Reads the next field's tag: false at the end of the message. Throws for a tag that runs past the end, field
    /// number 0 or above 2²⁹ − 1, and wire types 3, 4, 6 and 7.
    /// </summary>
    public bool Next(out int field)
    {
        field = 0;
        if (_position >= _data.Length) return false;
        int start = _position;
        ulong tag = RawVarint("(tag)");
        if (tag > uint.MaxValue) ThrowAt("(tag)", string.Create(CultureInfo.InvariantCulture, $"tag {tag} at byte {start} is larger than 32 bits"));
        var (number, wireType) = ProtoWire.SplitTag(tag);
        if (number == 0) ThrowAt("(tag)", string.Create(CultureInfo.InvariantCulture, $"field number 0 at byte {start} (a tag must name a field)"));
        if (wireType is WireType.StartGroup or WireType.EndGroup)
            ThrowAt(FieldLabel(number), "uses a group (wire type 3 or 4), which ONNX files never contain");
        if (wireType is not (WireType.Varint or WireType.Fixed64 or WireType.LengthDelimited or WireType.Fixed32))
            ThrowAt(FieldLabel(number), string.Create(CultureInfo.InvariantCulture, $"wire type {(int)wireType} does not exist"));
        _wireType = wireType;
        field = number;
        return true;
    }

    /// <summary>An int64 (or uint64, enum) field: a varint, negative numbers as their ten-byte two's complement.</summary>
    public long Int64(string name)
    {
        Expect(name, WireType.Varint);
        return unchecked((long)RawVarint(name));
    }

    /// <summary>An int32 field (a varint that must fit in 32 bits, sign-extended when negative).</summary>
    public int Int32(string name)
    {
        long v = Int64(name);
        if (v < int.MinValue || v > int.MaxValue) ThrowAt(name, string.Create(CultureInfo.InvariantCulture, $"value {v} does not fit in an int32"));
        return (int)v;
    }

    /// <summary>A float field: four little-endian bytes.</summary>
    public float Float(string name)
    {
        Expect(name, WireType.Fixed32);
        return ProtoWire.ReadFloat(Take(name, 4));
    }

    /// <summary>A bytes field: its length, checked against what is left, then a view of the bytes.</summary>
    public ReadOnlySpan<byte> Bytes(string name)
    {
        Expect(name, WireType.LengthDelimited);
        return LengthDelimited(name);
    }

    /// <summary>A string field: length-delimited UTF-8, refused when the bytes are not valid UTF-8.</summary>
    public string String(string name)
    {
        var bytes = Bytes(name);
        try
        {
            return s_utf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            ThrowAt(name, "is not valid UTF-8");
            return "";
        }
    }

    /// <summary>An embedded message field: a reader over its bytes, at path <c>Path.name</c>.</summary>
    public ProtoReader Message(string name)
    {
        var bytes = Bytes(name);
        return new ProtoReader(bytes, Source, Path + "." + name);
    }

    /// <summary>One element of a repeated int64 field, or all of a packed run of them, appended to <paramref name="into"/>.</summary>
    public void Int64s(string name, List<long> into)
    {
        if (_wireType != WireType.LengthDelimited)
        {
            into.Add(Int64(name));
            return;
        }
        var packed = new ProtoReader(LengthDelimited(name), Source, Path + "." + name);
        while (packed._position < packed._data.Length) into.Add(unchecked((long)packed.RawVarint("(packed element)")));
    }

    /// <summary>One element of a repeated float field, or all of a packed run (a length that is a multiple of 4).</summary>
    public void Floats(string name, List<float> into)
    {
        if (_wireType != WireType.LengthDelimited)
        {
            into.Add(Float(name));
            return;
        }
        var bytes = LengthDelimited(name);
        if (bytes.Length % 4 != 0) ThrowAt(name, string.Create(CultureInfo.InvariantCulture, $"packed floats take {bytes.Length} bytes, not a multiple of 4"));
        into.EnsureCapacity(into.Count + bytes.Length / 4);
        for (int i = 0; i < bytes.Length; i += 4) into.Add(ProtoWire.ReadFloat(bytes[i..]));
    }

    /// <summary>One element of a repeated double field, or all of a packed run (a length that is a multiple of 8).</summary>
    public void Doubles(string name, List<double> into)
    {
        if (_wireType != WireType.LengthDelimited)
        {
            Expect(name, WireType.Fixed64);
            into.Add(BinaryPrimitives.ReadDoubleLittleEndian(Take(name, 8)));
            return;
        }
        var bytes = LengthDelimited(name);
        if (bytes.Length % 8 != 0) ThrowAt(name, string.Create(CultureInfo.InvariantCulture, $"packed doubles take {bytes.Length} bytes, not a multiple of 8"));
        into.EnsureCapacity(into.Count + bytes.Length / 8);
        for (int i = 0; i < bytes.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]));
    }

    /// <summary>Skips the value of the field <see cref="Next"/> returned, checking that it lies inside the message.</summary>
    public void Skip()
    {
        const string name = "(unknown field)";
        switch (_wireType)
        {
            case WireType.Varint: RawVarint(name); break;
            case WireType.Fixed64: Take(name, 8); break;
            case WireType.Fixed32: Take(name, 4); break;
            default: LengthDelimited(name); break;
        }
    }

    /// <summary>The exception for a problem with field <paramref name="name"/> of this message: "file: Path.name: problem".</summary>
    public readonly InvalidDataException Error(string name, string problem) => new($"{Source}: {Path}.{name}: {problem}");

    [DoesNotReturn]
    public readonly void ThrowAt(string name, string problem) => throw Error(name, problem);

    private readonly void Expect(string name, WireType expected)
    {
        if (_wireType != expected)
            ThrowAt(name, $"wire type {(int)_wireType} ({Describe(_wireType)}), expected {(int)expected} ({Describe(expected)})");
    }

    private ReadOnlySpan<byte> LengthDelimited(string name)
    {
        ulong length = RawVarint(name);
        int left = _data.Length - _position;
        if (length > (ulong)left)
            ThrowAt(name, string.Create(CultureInfo.InvariantCulture, $"declared length {length} exceeds the {left} bytes left"));
        return Take(name, (int)length);
    }

    private ReadOnlySpan<byte> Take(string name, int count)
    {
        int left = _data.Length - _position;
        if (count > left) ThrowAt(name, string.Create(CultureInfo.InvariantCulture, $"needs {count} bytes, only {left} are left"));
        var bytes = _data.Slice(_position, count);
        _position += count;
        return bytes;
    }

    private ulong RawVarint(string name)
    {
        var rest = _data[_position..];
        if (!ProtoWire.TryReadVarint(rest, out ulong value, out int n))
        {
            ThrowAt(name, rest.Length < ProtoWire.MaxVarintLength
                ? "the data ends inside a varint (the file is truncated)"
                : "a varint runs past ten bytes");
        }
        // The tenth byte carries only bit 63: anything more overflows 64 bits.
        if (n == ProtoWire.MaxVarintLength && rest[n - 1] > 1) ThrowAt(name, "a varint overflows 64 bits");
        _position += n;
        return value;
    }

    private readonly string FieldLabel(int number) => string.Create(CultureInfo.InvariantCulture, $"(field {number})");

    private static string Describe(WireType type) => type switch
    {
        WireType.Varint => "varint",
        WireType.Fixed64 => "fixed64",
        WireType.LengthDelimited => "length-delimited",
        WireType.Fixed32 => "fixed32",
        _ => "group",
    };
}
