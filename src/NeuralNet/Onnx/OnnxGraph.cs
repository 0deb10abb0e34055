using System.Buffers.Binary;
using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Onnx;

/// <summary>
/// An ONNX graph being assembled: nodes in order, float32 initializers, one input and one output whose first
/// dimension is symbolic. <see cref="WriteTo"/> serializes it as a GraphProto.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<(string Name, int[] Dims, byte[] Raw)> _initializers = [];

    public IReadOnlyList<OnnxNode> Nodes => _nodes;

    /// <summary>Adds a node and returns it.</summary>
    public OnnxNode Add(string opType, string name, string[] inputs, string output, params OnnxAttribute[] attributes)
    {
        var node = new OnnxNode(opType, name, inputs, output, attributes);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Adds <paramref name="tensor"/> as a float32 initializer named <paramref name="name"/> (a double is rounded to the nearest float).</summary>
    public string AddInitializer<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // raw_data: fixed-width little-endian IEEE 754, whatever this machine's byte order.
        var values = tensor.ReadOnlySpan;
        byte[] raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), float.CreateTruncating(values[i]));
        _initializers.Add((name, tensor.Shape.ToArray(), raw));
        return name;
    }

    /// <summary>Writes the GraphProto: nodes, initializers, then the input and output with "N" as their first dimension.</summary>
    public void WriteTo(ProtoWriter w, string name, string docString, string input, int[] inputSample, string output, int[] outputSample, string batch)
    {
        foreach (var node in _nodes) w.WriteMessage(OnnxProto.Graph.Node, node.WriteTo);
        w.WriteString(OnnxProto.Graph.Name, name);
        foreach (var (tensorName, dims, raw) in _initializers)
        {
            w.WriteMessage(OnnxProto.Graph.Initializer, t =>
            {
                foreach (int d in dims) t.WriteInt64(OnnxProto.Tensor.Dims, d);
                t.WriteVarint(OnnxProto.Tensor.DataType, (ulong)OnnxProto.DataType.Float);
                t.WriteString(OnnxProto.Tensor.Name, tensorName);
                t.WriteBytes(OnnxProto.Tensor.RawData, raw);
            });
        }
        w.WriteString(OnnxProto.Graph.DocString, docString);
        w.WriteMessage(OnnxProto.Graph.Input, v => WriteValueInfo(v, input, batch, inputSample));
        w.WriteMessage(OnnxProto.Graph.Output, v => WriteValueInfo(v, output, batch, outputSample));
    }

    // ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type: FLOAT, shape: { dim: [N, d₁, …] } } } }
    private static void WriteValueInfo(ProtoWriter w, string name, string batch, int[] sample)
    {
        w.WriteString(OnnxProto.ValueInfo.Name, name);
        w.WriteMessage(OnnxProto.ValueInfo.Type, type => type.WriteMessage(OnnxProto.TypeProto.TensorType, tensor =>
        {
            tensor.WriteVarint(OnnxProto.TensorTypeProto.ElemType, (ulong)OnnxProto.DataType.Float);
            tensor.WriteMessage(OnnxProto.TensorTypeProto.Shape, shape =>
            {
                shape.WriteMessage(OnnxProto.TensorShape.Dim, d => d.WriteString(OnnxProto.Dimension.DimParam, batch));
                foreach (int extent in sample) shape.WriteMessage(OnnxProto.TensorShape.Dim, d => d.WriteInt64(OnnxProto.Dimension.DimValue, extent));
            });
        }));
    }
}
