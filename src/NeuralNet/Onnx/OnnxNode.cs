namespace NeuralNet.Onnx;

/// <summary>One node: <c>outputs = op_type(inputs; attributes)</c>. Its output can be renamed until the graph is written.</summary>
internal sealed class OnnxNode(string opType, string name, string[] inputs, string output, OnnxAttribute[] attributes)
{
    public string OpType { get; } = opType;

    public string Name { get; } = name;

    public string Output { get; set; } = output;

    public void WriteTo(ProtoWriter w)
    {
        foreach (string input in inputs) w.WriteString(OnnxProto.Node.Input, input);
        w.WriteString(OnnxProto.Node.Output, Output);
        w.WriteString(OnnxProto.Node.Name, Name);
        w.WriteString(OnnxProto.Node.OpType, OpType);
        foreach (var a in attributes) w.WriteMessage(OnnxProto.Node.Attribute, a.WriteTo);
    }
}
