using NeuralNet.Onnx;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Onnx;

/// <summary>The protobuf wire format against bytes worked out from the encoding rules, and encode/decode round trips.</summary>
public sealed class ProtoWireTests
{
    [Theory]
    [InlineData(0UL, new byte[] { 0x00 })]
    [InlineData(1UL, new byte[] { 0x01 })]
    [InlineData(127UL, new byte[] { 0x7F })]
    [InlineData(128UL, new byte[] { 0x80, 0x01 })]
    [InlineData(300UL, new byte[] { 0xAC, 0x02 })]                   // 300 = 0b10_0101100 → 1_0101100 0_0000010
    [InlineData(16384UL, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void Varints_have_the_documented_bytes_and_read_back(ulong value, byte[] expected)
    {
        Span<byte> buffer = stackalloc byte[ProtoWire.MaxVarintLength];
        int n = ProtoWire.WriteVarint(value, buffer);
        Assert.Equal(expected, buffer[..n].ToArray());
        Assert.Equal(n, ProtoWire.VarintLength(value));
        Assert.True(ProtoWire.TryReadVarint(expected, out ulong back, out int read));
        Assert.Equal((value, expected.Length), (back, read));
    }

    [Fact]
    public void Random_varints_of_every_length_round_trip()
    {
        var rng = new Rng(1);
        Span<byte> buffer = stackalloc byte[ProtoWire.MaxVarintLength + 3];
        for (int i = 0; i < 2000; i++)
        {
            ulong value = rng.NextUInt64() >> rng.NextInt(64);
            int n = ProtoWire.WriteVarint(value, buffer);
            buffer[n] = 0x7F; // trailing bytes are not read
            Assert.True(ProtoWire.TryReadVarint(buffer, out ulong back, out int read));
            Assert.Equal((value, n), (back, read));
        }
    }

    [Fact]
    public void Truncated_and_overlong_varints_are_refused()
    {
        Assert.False(ProtoWire.TryReadVarint([], out _, out _));
        Assert.False(ProtoWire.TryReadVarint([0x80], out _, out _));
        Assert.False(ProtoWire.TryReadVarint([0xFF, 0xFF], out _, out int read));
        Assert.Equal(0, read);
        Assert.False(ProtoWire.TryReadVarint(Enumerable.Repeat((byte)0x80, 11).ToArray(), out _, out _));
    }

    [Fact]
    public void Tags_pack_the_field_number_and_wire_type()
    {
        Assert.Equal(0x08u, ProtoWire.Tag(1, WireType.Varint));           // ModelProto.ir_version
        Assert.Equal(0x42u, ProtoWire.Tag(8, WireType.LengthDelimited));  // ModelProto.opset_import
        Assert.Equal(0xA0u, ProtoWire.Tag(20, WireType.Varint));          // AttributeProto.type
        Assert.Equal((20, WireType.Varint), ProtoWire.SplitTag(0xA0));
        Assert.Equal((ProtoWire.MaxFieldNumber, WireType.Fixed32), ProtoWire.SplitTag(ProtoWire.Tag(ProtoWire.MaxFieldNumber, WireType.Fixed32)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProtoWire.Tag(0, WireType.Varint));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProtoWire.Tag(ProtoWire.MaxFieldNumber + 1, WireType.Varint));
    }

    [Fact]
    public void Writer_fields_have_the_documented_bytes()
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, 8);                  // 08 08
        w.WriteInt64(3, -1);                 // 18, then −1 as ten bytes
        w.WriteFloat(2, 1.0f);               // 15 00 00 80 3F
        w.WriteString(4, "Né");              // 22 03 4E C3 A9 (UTF-8)
        w.WriteBytes(9, [1, 2]);             // 4A 02 01 02
        w.WriteMessage(7, m => m.WriteVarint(2, 17)); // 3A 02 10 11
        byte[] expected =
        [
            0x08, 0x08,
            0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            0x15, 0x00, 0x00, 0x80, 0x3F,
            0x22, 0x03, 0x4E, 0xC3, 0xA9,
            0x4A, 0x02, 0x01, 0x02,
            0x3A, 0x02, 0x10, 0x11,
        ];
        Assert.Equal(expected, w.ToArray());
        Assert.Equal(expected.Length, w.Length);
    }

    [Fact]
    public void A_long_message_gets_a_multi_byte_length_and_the_buffer_grows()
    {
        byte[] payload = Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray();
        var w = new ProtoWriter();
        w.WriteBytes(5, payload);
        byte[] bytes = w.ToArray();
        Assert.Equal(0x2A, bytes[0]);
        Assert.True(ProtoWire.TryReadVarint(bytes.AsSpan(1), out ulong length, out int n));
        Assert.Equal((70_000UL, 3), (length, n));
        Assert.Equal(payload, bytes[(1 + n)..]);
    }
}
