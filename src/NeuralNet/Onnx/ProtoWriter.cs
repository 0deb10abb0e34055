using System.Text;

namespace NeuralNet.Onnx;

/// <summary>
/// Builds one protobuf message in memory, field by field, over the primitives of <see cref="ProtoWire"/>. An embedded
/// message is built by its own writer and added with <see cref="WriteMessage(int, ProtoWriter)"/>, which prefixes its
/// length, so the bytes are written once per nesting level (fine for files of a few megabytes).
/// </summary>
/// <example><code>
/// var opset = new ProtoWriter();
/// opset.WriteString(1, "");        // OperatorSetIdProto.domain
/// opset.WriteInt64(2, 17);         // OperatorSetIdProto.version
/// var model = new ProtoWriter();
/// model.WriteInt64(1, 8);          // ModelProto.ir_version
/// model.WriteMessage(8, opset);    // ModelProto.opset_import
/// </code></example>
internal sealed class ProtoWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The message's bytes so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>A copy of the message's bytes.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>A varint field: uint64, or any non-negative integer, bool or enum.</summary>
    public void WriteVarint(int fieldNumber, ulong value)
    {
        WriteTag(fieldNumber, WireType.Varint);
        WriteRawVarint(value);
    }

    /// <summary>An int64 (or int32) field: negative values are their two's complement, ten bytes (protobuf's int64, not sint64).</summary>
    public void WriteInt64(int fieldNumber, long value) => WriteVarint(fieldNumber, unchecked((ulong)value));

    /// <summary>A float field: wire type fixed32, the IEEE 754 bits little-endian.</summary>
    public void WriteFloat(int fieldNumber, float value)
    {
        WriteTag(fieldNumber, WireType.Fixed32);
        ProtoWire.WriteFloat(value, Grow(4));
    }

    /// <summary>A string field: length, then UTF-8 bytes.</summary>
    public void WriteString(int fieldNumber, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteTag(fieldNumber, WireType.LengthDelimited);
        int count = Encoding.UTF8.GetByteCount(value);
        WriteRawVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, Grow(count));
    }

    /// <summary>A bytes field: length, then the bytes as they are.</summary>
    public void WriteBytes(int fieldNumber, ReadOnlySpan<byte> value)
    {
        WriteTag(fieldNumber, WireType.LengthDelimited);
        WriteRawVarint((ulong)value.Length);
        value.CopyTo(Grow(value.Length));
    }

    /// <summary>An embedded message field: <paramref name="message"/>'s bytes, length-prefixed.</summary>
    public void WriteMessage(int fieldNumber, ProtoWriter message)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteBytes(fieldNumber, message.WrittenSpan);
    }

    /// <summary>An embedded message field whose fields <paramref name="body"/> writes into a fresh writer.</summary>
    public void WriteMessage(int fieldNumber, Action<ProtoWriter> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var message = new ProtoWriter();
        body(message);
        WriteMessage(fieldNumber, message);
    }

    private void WriteTag(int fieldNumber, WireType wireType) => WriteRawVarint(ProtoWire.Tag(fieldNumber, wireType));

    private void WriteRawVarint(ulong value)
    {
        Span<byte> bytes = stackalloc byte[ProtoWire.MaxVarintLength];
        int n = ProtoWire.WriteVarint(value, bytes);
        bytes[..n].CopyTo(Grow(n));
    }

    /// <summary>Reserves <paramref name="count"/> bytes at the end and returns them to be filled.</summary>
    private Span<byte> Grow(int count)
    {
        int needed = checked(_length + count);
        if (needed > _buffer.Length) Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
        var span = _buffer.AsSpan(_length, count);
        _length = needed;
        return span;
    }
}
