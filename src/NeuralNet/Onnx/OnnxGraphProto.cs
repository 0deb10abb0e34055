namespace NeuralNet.Onnx;

/// <summary>A GraphProto as read from a file: nodes in topological order, initializers (constant inputs), inputs and outputs.</summary>
internal sealed class OnnxGraphProto
{
    public string Name { get; init; } = "";

    public List<OnnxNodeProto> Nodes { get; } = [];

    /// <summary>The initializers in file order; a name may also be listed among <see cref="Inputs"/> (IR version 3 lists every weight there).</summary>
    public List<OnnxTensorProto> Initializers { get; } = [];

    public List<OnnxValueInfoProto> Inputs { get; } = [];

    public List<OnnxValueInfoProto> Outputs { get; } = [];

    /// <summary>How many sparse_initializer entries the file has (the importer refuses them).</summary>
    public int SparseInitializers { get; set; }

    /// <summary>Reads a GraphProto message; value_info and annotations are skipped.</summary>
    public static OnnxGraphProto Read(ProtoReader r)
    {
        string name = "";
        var nodes = new List<OnnxNodeProto>();
        var initializers = new List<OnnxTensorProto>();
        var inputs = new List<OnnxValueInfoProto>();
        var outputs = new List<OnnxValueInfoProto>();
        int sparse = 0;
        while (r.Next(out int field))
        {
            switch (field)
            {
                case OnnxProto.Graph.Node: nodes.Add(OnnxNodeProto.Read(r.Message($"node[{nodes.Count}]"), nodes.Count)); break;
                case OnnxProto.Graph.Name: name = r.String("name"); break;
                case OnnxProto.Graph.Initializer: initializers.Add(OnnxTensorProto.Read(r.Message($"initializer[{initializers.Count}]"))); break;
                case OnnxProto.Graph.Input: inputs.Add(OnnxValueInfoProto.Read(r.Message($"input[{inputs.Count}]"))); break;
                case OnnxProto.Graph.Output: outputs.Add(OnnxValueInfoProto.Read(r.Message($"output[{outputs.Count}]"))); break;
                case OnnxProto.Graph.SparseInitializer: r.Bytes($"sparse_initializer[{sparse++}]"); break;
                default: r.Skip(); break;
            }
        }
        var graph = new OnnxGraphProto { Name = name, SparseInitializers = sparse };
        graph.Nodes.AddRange(nodes);
        graph.Initializers.AddRange(initializers);
        graph.Inputs.AddRange(inputs);
        graph.Outputs.AddRange(outputs);
        return graph;
    }
}
