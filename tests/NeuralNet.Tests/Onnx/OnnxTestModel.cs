using NeuralNet.Onnx;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// Writes small ONNX files for the import tests, field by field with <see cref="ProtoWriter"/>: graphs the exporter would
/// never write (unsupported operators and attributes, typed data fields, external data, two inputs).
/// </summary>
internal sealed class OnnxTestModel
{
    private readonly List<Action<ProtoWriter>> _graph = [];
    private readonly long _opset;

    public OnnxTestModel(long opset = 17) => _opset = opset;

    /// <summary>A float32 graph input; null extents are symbolic ("N").</summary>
    public OnnxTestModel Input(string name, params long?[] dims) => Value(OnnxProto.Graph.Input, name, OnnxProto.DataType.Float, dims);

    public OnnxTestModel Input(string name, OnnxProto.DataType type, params long?[] dims) => Value(OnnxProto.Graph.Input, name, type, dims);

    public OnnxTestModel Output(string name) => Value(OnnxProto.Graph.Output, name, OnnxProto.DataType.Float, null);

    /// <summary>A float32 initializer in raw_data, values 0.1·(i + 1) unless given.</summary>
    public OnnxTestModel Initializer(string name, long[] dims, float[]? values = null)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        values ??= Enumerable.Range(0, (int)count).Select(i => 0.1f * (i + 1)).ToArray();
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(4 * i), values[i]);
        return Tensor(name, dims, OnnxProto.DataType.Float, t => t.WriteBytes(OnnxProto.Tensor.RawData, raw));
    }

    /// <summary>An int64 initializer in int64_data.</summary>
    public OnnxTestModel Int64s(string name, long[] dims, params long[] values) =>
        Tensor(name, dims, OnnxProto.DataType.Int64, t => { foreach (long v in values) t.WriteInt64(OnnxProto.Tensor.Int64Data, v); });

    /// <summary>An initializer whose data fields <paramref name="data"/> writes.</summary>
    public OnnxTestModel Tensor(string name, long[] dims, OnnxProto.DataType type, Action<ProtoWriter> data)
    {
        _graph.Add(g => g.WriteMessage(OnnxProto.Graph.Initializer, t =>
        {
            foreach (long d in dims) t.WriteInt64(OnnxProto.Tensor.Dims, d);
            t.WriteVarint(OnnxProto.Tensor.DataType, (ulong)type);
            t.WriteString(OnnxProto.Tensor.Name, name);
            data(t);
        }));
        return this;
    }

    public OnnxTestModel Node(string op, string name, string[] inputs, string[] outputs, params Action<ProtoWriter>[] attributes)
    {
        _graph.Add(g => g.WriteMessage(OnnxProto.Graph.Node, n =>
        {
            foreach (string i in inputs) n.WriteString(OnnxProto.Node.Input, i);
            foreach (string o in outputs) n.WriteString(OnnxProto.Node.Output, o);
            n.WriteString(OnnxProto.Node.Name, name);
            n.WriteString(OnnxProto.Node.OpType, op);
            foreach (var a in attributes) n.WriteMessage(OnnxProto.Node.Attribute, a);
        }));
        return this;
    }

    public static Action<ProtoWriter> Ints(string name, params long[] values) => a =>
    {
        a.WriteString(OnnxProto.Attribute.Name, name);
        a.WriteVarint(OnnxProto.Attribute.Type, (ulong)OnnxProto.AttributeType.Ints);
        foreach (long v in values) a.WriteInt64(OnnxProto.Attribute.Ints, v);
    };

    public static Action<ProtoWriter> Int(string name, long value) => a =>
    {
        a.WriteString(OnnxProto.Attribute.Name, name);
        a.WriteVarint(OnnxProto.Attribute.Type, (ulong)OnnxProto.AttributeType.Int);
        a.WriteInt64(OnnxProto.Attribute.I, value);
    };

    public static Action<ProtoWriter> Float(string name, float value) => a =>
    {
        a.WriteString(OnnxProto.Attribute.Name, name);
        a.WriteVarint(OnnxProto.Attribute.Type, (ulong)OnnxProto.AttributeType.Float);
        a.WriteFloat(OnnxProto.Attribute.F, value);
    };

    public static Action<ProtoWriter> String(string name, string value) => a =>
    {
        a.WriteString(OnnxProto.Attribute.Name, name);
        a.WriteVarint(OnnxProto.Attribute.Type, (ulong)OnnxProto.AttributeType.String);
        a.WriteString(OnnxProto.Attribute.S, value);
    };

    public byte[] ToBytes()
    {
        var m = new ProtoWriter();
        m.WriteInt64(OnnxProto.Model.IrVersion, 8);
        m.WriteString(OnnxProto.Model.ProducerName, "test");
        m.WriteMessage(OnnxProto.Model.Graph, g =>
        {
            g.WriteString(OnnxProto.Graph.Name, "test");
            foreach (var part in _graph) part(g);
        });
        m.WriteMessage(OnnxProto.Model.OpsetImport, o =>
        {
            o.WriteString(OnnxProto.OperatorSetId.Domain, "");
            o.WriteInt64(OnnxProto.OperatorSetId.Version, _opset);
        });
        return m.ToArray();
    }

    private OnnxTestModel Value(int field, string name, OnnxProto.DataType type, long?[]? dims)
    {
        _graph.Add(g => g.WriteMessage(field, v =>
        {
            v.WriteString(OnnxProto.ValueInfo.Name, name);
            v.WriteMessage(OnnxProto.ValueInfo.Type, t => t.WriteMessage(OnnxProto.TypeProto.TensorType, tt =>
            {
                tt.WriteVarint(OnnxProto.TensorTypeProto.ElemType, (ulong)type);
                if (dims is null) return;
                tt.WriteMessage(OnnxProto.TensorTypeProto.Shape, s =>
                {
                    foreach (long? d in dims)
                        s.WriteMessage(OnnxProto.TensorShape.Dim, x => { if (d is long e) x.WriteInt64(OnnxProto.Dimension.DimValue, e); else x.WriteString(OnnxProto.Dimension.DimParam, "N"); });
                });
            }));
        }));
        return this;
    }
}
