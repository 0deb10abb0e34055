namespace NeuralNet.Onnx;

/// <summary>One attribute of a node: an int, a float or a list of ints (all the exporter needs).</summary>
internal sealed record OnnxAttribute(string Name, OnnxProto.AttributeType Type, long Int = 0, float Float = 0, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, OnnxProto.AttributeType.Int, Int: value);

    public static OnnxAttribute Of(string name, float value) => new(name, OnnxProto.AttributeType.Float, Float: value);

    public static OnnxAttribute Of(string name, params long[] values) => new(name, OnnxProto.AttributeType.Ints, Ints: values);

    public void WriteTo(ProtoWriter w)
    {
        w.WriteString(OnnxProto.Attribute.Name, Name);
        w.WriteVarint(OnnxProto.Attribute.Type, (ulong)Type);
        switch (Type)
        {
            case OnnxProto.AttributeType.Int: w.WriteInt64(OnnxProto.Attribute.I, Int); break;
            case OnnxProto.AttributeType.Float: w.WriteFloat(OnnxProto.Attribute.F, Float); break;
            case OnnxProto.AttributeType.Ints:
                // onnx.proto is proto2 with unpacked repeated scalars: one field per element.
                foreach (long v in Ints!) w.WriteInt64(OnnxProto.Attribute.Ints, v);
                break;
            default: throw new InvalidOperationException($"OnnxAttribute: cannot write a {Type} attribute.");
        }
    }
}
