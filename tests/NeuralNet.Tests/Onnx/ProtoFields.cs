using NeuralNet.Onnx;

namespace NeuralNet.Tests.Onnx;

/// <summary>A test-side walk over one protobuf message's fields with <see cref="ProtoWire"/>'s read primitives.</summary>
internal static class ProtoFields
{
    public sealed record Field(int Number, WireType Type, ulong Varint, byte[]? Bytes);

    public static List<Field> Read(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        int at = 0;
        while (at < message.Length)
        {
            Assert.True(ProtoWire.TryReadVarint(message[at..], out ulong tag, out int n), $"bad tag at byte {at}");
            at += n;
            var (number, type) = ProtoWire.SplitTag(tag);
            switch (type)
            {
                case WireType.Varint:
                    Assert.True(ProtoWire.TryReadVarint(message[at..], out ulong v, out n));
                    at += n;
                    fields.Add(new Field(number, type, v, null));
                    break;
                case WireType.LengthDelimited:
                    Assert.True(ProtoWire.TryReadVarint(message[at..], out ulong length, out n));
                    at += n;
                    fields.Add(new Field(number, type, 0, message.Slice(at, (int)length).ToArray()));
                    at += (int)length;
                    break;
                case WireType.Fixed32:
                    fields.Add(new Field(number, type, 0, message.Slice(at, 4).ToArray()));
                    at += 4;
                    break;
                default:
                    Assert.Fail($"unexpected wire type {type} for field {number}");
                    break;
            }
        }
        return fields;
    }
}
