namespace NeuralNet.Onnx;

/// <summary>
/// The field numbers and enum values of onnx.proto (ONNX IR version 8) that the exporter writes and the importer reads,
/// one nested class per message, named as in the .proto file.
/// </summary>
internal static class OnnxProto
{
    /// <summary>ModelProto: the file's top-level message.</summary>
    public static class Model
    {
        public const int IrVersion = 1;         // int64
        public const int ProducerName = 2;      // string
        public const int ProducerVersion = 3;   // string
        public const int Domain = 4;            // string
        public const int ModelVersion = 5;      // int64
        public const int DocString = 6;         // string
        public const int Graph = 7;             // GraphProto
        public const int OpsetImport = 8;       // repeated OperatorSetIdProto
        public const int MetadataProps = 14;    // repeated StringStringEntryProto
        public const int TrainingInfo = 20;     // repeated TrainingInfoProto (not read)
        public const int Functions = 25;        // repeated FunctionProto (not read)
    }

    /// <summary>OperatorSetIdProto: which operator set (domain "" is the default ONNX one) at which version.</summary>
    public static class OperatorSetId
    {
        public const int Domain = 1;            // string
        public const int Version = 2;           // int64
    }

    /// <summary>StringStringEntryProto: a key/value pair (metadata_props).</summary>
    public static class StringStringEntry
    {
        public const int Key = 1;
        public const int Value = 2;
    }

    /// <summary>GraphProto: nodes in topological order, the initializers (weights), the inputs and outputs.</summary>
    public static class Graph
    {
        public const int Node = 1;              // repeated NodeProto
        public const int Name = 2;              // string
        public const int Initializer = 5;       // repeated TensorProto
        public const int DocString = 10;        // string
        public const int Input = 11;            // repeated ValueInfoProto
        public const int Output = 12;           // repeated ValueInfoProto
        public const int ValueInfo = 13;        // repeated ValueInfoProto
        public const int SparseInitializer = 15; // repeated SparseTensorProto (refused by the importer)
    }

    /// <summary>NodeProto: one operator application.</summary>
    public static class Node
    {
        public const int Input = 1;             // repeated string
        public const int Output = 2;            // repeated string
        public const int Name = 3;              // string
        public const int OpType = 4;            // string
        public const int Attribute = 5;         // repeated AttributeProto
        public const int DocString = 6;         // string
        public const int Domain = 7;            // string
    }

    /// <summary>AttributeProto: a named operator argument; <see cref="Type"/> says which value field is set.</summary>
    public static class Attribute
    {
        public const int Name = 1;              // string
        public const int F = 2;                 // float
        public const int I = 3;                 // int64
        public const int S = 4;                 // bytes
        public const int T = 5;                 // TensorProto
        public const int G = 6;                 // GraphProto (not read)
        public const int Floats = 7;            // repeated float
        public const int Ints = 8;              // repeated int64
        public const int Strings = 9;           // repeated bytes
        public const int DocString = 13;        // string
        public const int Type = 20;             // AttributeType
        public const int RefAttrName = 21;      // string: a reference to an attribute of an enclosing function
    }

    /// <summary>AttributeProto.AttributeType.</summary>
    public enum AttributeType
    {
        Undefined = 0,
        Float = 1,
        Int = 2,
        String = 3,
        Tensor = 4,
        Graph = 5,
        Floats = 6,
        Ints = 7,
        Strings = 8,
        Tensors = 9,
        Graphs = 10,
        SparseTensor = 11,
        SparseTensors = 12,
        TypeProto = 13,
        TypeProtos = 14,
    }

    /// <summary>TensorProto: a constant tensor (an initializer), row-major.</summary>
    public static class Tensor
    {
        public const int Dims = 1;              // repeated int64
        public const int DataType = 2;          // int32 (TensorProto.DataType)
        public const int Segment = 3;           // Segment (refused by the importer)
        public const int FloatData = 4;         // repeated float, packed
        public const int Int32Data = 5;         // repeated int32, packed: int32, int16, int8, uint16, uint8, bool
        public const int StringData = 6;        // repeated bytes
        public const int Int64Data = 7;         // repeated int64, packed
        public const int Name = 8;              // string
        public const int RawData = 9;           // bytes: fixed-width little-endian elements
        public const int DoubleData = 10;       // repeated double, packed
        public const int Uint64Data = 11;       // repeated uint64, packed: uint32, uint64
        public const int DocString = 12;        // string
        public const int ExternalData = 13;     // repeated StringStringEntryProto: "location", "offset", "length", …
        public const int DataLocation = 14;     // DataLocation: 0 DEFAULT, 1 EXTERNAL
    }

    /// <summary>TensorProto.DataType: element types (also TypeProto.Tensor.elem_type).</summary>
    public enum DataType
    {
        Undefined = 0,
        Float = 1,
        Uint8 = 2,
        Int8 = 3,
        Uint16 = 4,
        Int16 = 5,
        Int32 = 6,
        Int64 = 7,
        String = 8,
        Bool = 9,
        Float16 = 10,
        Double = 11,
        Uint32 = 12,
        Uint64 = 13,
        Complex64 = 14,
        Complex128 = 15,
        BFloat16 = 16,
    }

    /// <summary>ValueInfoProto: a graph input, output or intermediate value with its type.</summary>
    public static class ValueInfo
    {
        public const int Name = 1;              // string
        public const int Type = 2;              // TypeProto
        public const int DocString = 3;         // string
    }

    /// <summary>TypeProto: only its tensor_type case is used.</summary>
    public static class TypeProto
    {
        public const int TensorType = 1;        // TypeProto.Tensor
    }

    /// <summary>TypeProto.Tensor: element type and shape.</summary>
    public static class TensorTypeProto
    {
        public const int ElemType = 1;          // int32 (DataType)
        public const int Shape = 2;             // TensorShapeProto
    }

    /// <summary>TensorShapeProto: one Dimension per axis.</summary>
    public static class TensorShape
    {
        public const int Dim = 1;               // repeated Dimension
    }

    /// <summary>TensorShapeProto.Dimension: a fixed extent or a symbolic name (one of the two).</summary>
    public static class Dimension
    {
        public const int DimValue = 1;          // int64
        public const int DimParam = 2;          // string, e.g. "N"
    }
}
