namespace NeuralNet.Onnx;

/// <summary>
/// A ValueInfoProto as read from a file: a graph input or output with its element type and shape. Each dim is its
/// fixed extent, or null when symbolic ("N") or absent; <see cref="Dims"/> is null when no shape is given at all.
/// </summary>
internal sealed class OnnxValueInfoProto
{
    public required string Name { get; init; }

    /// <summary>The tensor element type; <see cref="OnnxProto.DataType.Undefined"/> for a value that is not a tensor (a sequence, a map).</summary>
    public required OnnxProto.DataType ElementType { get; init; }

    /// <summary>Per axis: the extent, or null when symbolic; the array is null when the shape is unknown (even the rank).</summary>
    public required long?[]? Dims { get; init; }

    /// <summary>The symbolic names of the axes that have one (dim_param), else null per axis.</summary>
    public string?[] DimParams { get; init; } = [];

    /// <summary>Reads a ValueInfoProto message (type → tensor_type → elem_type, shape → dim → dim_value | dim_param).</summary>
    public static OnnxValueInfoProto Read(ProtoReader r)
    {
        string name = "";
        int elementType = 0;
        List<long?>? dims = null;
        var parameters = new List<string?>();
        while (r.Next(out int field))
        {
            if (field == OnnxProto.ValueInfo.Name) name = r.String("name");
            else if (field == OnnxProto.ValueInfo.Type)
            {
                var type = r.Message("type");
                while (type.Next(out int f))
                {
                    if (f != OnnxProto.TypeProto.TensorType)
                    {
                        type.Skip();
                        continue;
                    }
                    var tensor = type.Message("tensor_type");
                    while (tensor.Next(out int g))
                    {
                        if (g == OnnxProto.TensorTypeProto.ElemType) elementType = tensor.Int32("elem_type");
                        else if (g == OnnxProto.TensorTypeProto.Shape)
                        {
                            dims = [];
                            var shape = tensor.Message("shape");
                            while (shape.Next(out int h))
                            {
                                if (h != OnnxProto.TensorShape.Dim)
                                {
                                    shape.Skip();
                                    continue;
                                }
                                var dim = shape.Message($"dim[{dims.Count}]");
                                long? extent = null;
                                string? parameter = null;
                                while (dim.Next(out int k))
                                {
                                    if (k == OnnxProto.Dimension.DimValue) extent = dim.Int64("dim_value");
                                    else if (k == OnnxProto.Dimension.DimParam) parameter = dim.String("dim_param");
                                    else dim.Skip();
                                }
                                // dim_value 0 or negative is not an extent a model here can use: treat it as unknown.
                                dims.Add(extent is > 0 ? extent : null);
                                parameters.Add(parameter);
                            }
                        }
                        else tensor.Skip();
                    }
                }
            }
            else r.Skip();
        }
        return new OnnxValueInfoProto { Name = name, ElementType = (OnnxProto.DataType)elementType, Dims = dims?.ToArray(), DimParams = parameters.ToArray() };
    }
}
