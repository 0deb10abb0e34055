using System.Globalization;
using System.Text;

namespace NeuralNet.Onnx;

/// <summary>
/// An AttributeProto as read from a file: a node's named argument. Only the kinds an operator here takes are kept
/// (int, float, string, tensor, ints, floats); the others (graphs, sparse tensors, type protos, lists of strings or
/// tensors) are recorded by <see cref="Type"/> alone, so that an operator using one is refused by name.
/// </summary>
internal sealed class OnnxAttributeProto
{
    public required string Name { get; init; }

    /// <summary>Which value field is set (for files without the type field, inferred from the field present).</summary>
    public required OnnxProto.AttributeType Type { get; init; }

    public long Int { get; init; }

    public float Float { get; init; }

    public byte[] Bytes { get; init; } = [];

    public OnnxTensorProto? Tensor { get; init; }

    public long[] Ints { get; init; } = [];

    public float[] Floats { get; init; } = [];

    /// <summary>Set when the attribute refers to an attribute of an enclosing function instead of holding a value.</summary>
    public string? RefAttrName { get; init; }

    /// <summary>The string value as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Bytes);

    /// <summary>"[1, 1]", "2", "0.01", "b'SAME_UPPER'": the value as the messages quote it.</summary>
    public string DescribeValue() => Type switch
    {
        OnnxProto.AttributeType.Int => Int.ToString(CultureInfo.InvariantCulture),
        OnnxProto.AttributeType.Float => Float.ToString("R", CultureInfo.InvariantCulture),
        OnnxProto.AttributeType.String => $"\"{Text}\"",
        OnnxProto.AttributeType.Ints => OnnxImport.Dims(Ints),
        OnnxProto.AttributeType.Floats => "[" + string.Join(", ", Floats.Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
        OnnxProto.AttributeType.Tensor => Tensor?.Describe() ?? "a tensor",
        _ => $"a {Type} value",
    };

    /// <summary>Reads an AttributeProto message.</summary>
    public static OnnxAttributeProto Read(ProtoReader r)
    {
        string name = "";
        int type = 0;
        long i = 0;
        float f = 0;
        byte[] s = [];
        OnnxTensorProto? t = null;
        var ints = new List<long>();
        var floats = new List<float>();
        string? refName = null;
        var seen = OnnxProto.AttributeType.Undefined;   // the value field present, for files that omit "type"
        while (r.Next(out int field))
        {
            switch (field)
            {
                case OnnxProto.Attribute.Name: name = r.String("name"); break;
                case OnnxProto.Attribute.F: f = r.Float("f"); seen = OnnxProto.AttributeType.Float; break;
                case OnnxProto.Attribute.I: i = r.Int64("i"); seen = OnnxProto.AttributeType.Int; break;
                case OnnxProto.Attribute.S: s = r.Bytes("s").ToArray(); seen = OnnxProto.AttributeType.String; break;
                case OnnxProto.Attribute.T: t = OnnxTensorProto.Read(r.Message("t")); seen = OnnxProto.AttributeType.Tensor; break;
                case OnnxProto.Attribute.Floats: r.Floats("floats", floats); seen = OnnxProto.AttributeType.Floats; break;
                case OnnxProto.Attribute.Ints: r.Int64s("ints", ints); seen = OnnxProto.AttributeType.Ints; break;
                case OnnxProto.Attribute.Type: type = r.Int32("type"); break;
                case OnnxProto.Attribute.RefAttrName: refName = r.String("ref_attr_name"); break;
                default: r.Skip(); break;
            }
        }
        if (name.Length == 0) throw r.Error("name", "missing; every attribute has a name");
        var kind = type == 0 ? seen : (OnnxProto.AttributeType)type;
        if (type != 0 && !Enum.IsDefined(kind)) throw r.Error("type", string.Create(CultureInfo.InvariantCulture, $"{type} is not an AttributeType (attribute '{name}')"));
        return new OnnxAttributeProto
        {
            Name = name, Type = kind, Int = i, Float = f, Bytes = s, Tensor = t, Ints = ints.ToArray(), Floats = floats.ToArray(), RefAttrName = refName,
        };
    }
}
