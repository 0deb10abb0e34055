namespace NeuralNet.Onnx;

/// <summary>
/// A ModelProto as read from a file: the IR version, the producer, the operator sets imported and the graph. Read by
/// <see cref="ProtoReader"/>, so a damaged file is one <see cref="InvalidDataException"/> naming the file and the field.
/// </summary>
internal sealed class OnnxModelProto
{
    public long IrVersion { get; init; }

    public string ProducerName { get; init; } = "";

    public string ProducerVersion { get; init; } = "";

    /// <summary>(domain, version) per opset_import entry; "" is the default operator set.</summary>
    public required IReadOnlyList<(string Domain, long Version)> OpsetImports { get; init; }

    public required OnnxGraphProto Graph { get; init; }

    /// <summary>The version of the default operator set ("" or "ai.onnx"), or null when the file imports none.</summary>
    public long? DefaultOpset => OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault();

    /// <summary>Parses an ONNX file's bytes; <paramref name="source"/> names the file in errors.</summary>
    public static OnnxModelProto Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.IsEmpty) throw new InvalidDataException($"{source}: the file is empty; an ONNX model is a ModelProto with at least a graph.");
        var r = new ProtoReader(bytes, source, "ModelProto");
        long ir = 0;
        string producer = "", version = "";
        var opsets = new List<(string, long)>();
        OnnxGraphProto? graph = null;
        while (r.Next(out int field))
        {
            switch (field)
            {
                case OnnxProto.Model.IrVersion: ir = r.Int64("ir_version"); break;
                case OnnxProto.Model.ProducerName: producer = r.String("producer_name"); break;
                case OnnxProto.Model.ProducerVersion: version = r.String("producer_version"); break;
                case OnnxProto.Model.Graph:
                    if (graph is not null) throw r.Error("graph", "appears twice; a model has one graph");
                    graph = OnnxGraphProto.Read(r.Message("graph"));
                    break;
                case OnnxProto.Model.OpsetImport:
                {
                    var o = r.Message($"opset_import[{opsets.Count}]");
                    string domain = "";
                    long v = 0;
                    while (o.Next(out int f))
                    {
                        if (f == OnnxProto.OperatorSetId.Domain) domain = o.String("domain");
                        else if (f == OnnxProto.OperatorSetId.Version) v = o.Int64("version");
                        else o.Skip();
                    }
                    opsets.Add((domain, v));
                    break;
                }
                default: r.Skip(); break;
            }
        }
        if (graph is null)
            throw r.Error("graph", "missing; this is not an ONNX model (a ModelProto holds its graph in field 7)");
        return new OnnxModelProto { IrVersion = ir, ProducerName = producer, ProducerVersion = version, OpsetImports = opsets, Graph = graph };
    }
}
