namespace NeuralNet.Onnx;

/// <summary>A NodeProto as read from a file: <c>outputs = op_type(inputs; attributes)</c>, at position <see cref="Index"/> in the graph.</summary>
internal sealed class OnnxNodeProto
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    public required string OpType { get; init; }

    /// <summary>"" (or "ai.onnx") for the standard operators.</summary>
    public required string Domain { get; init; }

    /// <summary>Value names; "" marks an optional input left out.</summary>
    public required string[] Inputs { get; init; }

    public required string[] Outputs { get; init; }

    public required IReadOnlyDictionary<string, OnnxAttributeProto> Attributes { get; init; }

    /// <summary>"node 3 '/0/Conv' (Conv)": how messages name the node.</summary>
    public string Label => Name.Length == 0 ? $"node {Index} ({OpType})" : $"node {Index} '{Name}' ({OpType})";

    /// <summary>Input <paramref name="i"/>, or "" when the node has fewer inputs.</summary>
    public string Input(int i) => i < Inputs.Length ? Inputs[i] : "";

    /// <summary>Reads a NodeProto message; a repeated attribute name is an error.</summary>
    public static OnnxNodeProto Read(ProtoReader r, int index)
    {
        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttributeProto>(StringComparer.Ordinal);
        int a = 0;
        while (r.Next(out int field))
        {
            switch (field)
            {
                case OnnxProto.Node.Input: inputs.Add(r.String("input")); break;
                case OnnxProto.Node.Output: outputs.Add(r.String("output")); break;
                case OnnxProto.Node.Name: name = r.String("name"); break;
                case OnnxProto.Node.OpType: opType = r.String("op_type"); break;
                case OnnxProto.Node.Domain: domain = r.String("domain"); break;
                case OnnxProto.Node.Attribute:
                {
                    var attribute = OnnxAttributeProto.Read(r.Message($"attribute[{a++}]"));
                    if (!attributes.TryAdd(attribute.Name, attribute))
                        throw r.Error($"attribute[{a - 1}]", $"'{attribute.Name}' appears twice (node '{name}')");
                    break;
                }
                default: r.Skip(); break;
            }
        }
        if (opType.Length == 0) throw r.Error("op_type", $"missing (node '{name}')");
        return new OnnxNodeProto
        {
            Index = index, Name = name, OpType = opType, Domain = domain, Inputs = inputs.ToArray(), Outputs = outputs.ToArray(), Attributes = attributes,
        };
    }
}
