using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Onnx;

/// <summary>
/// A TensorProto as read from a file: a constant (an initializer, a Constant node's value, a test case's input), its
/// elements decoded into one of three arrays by type: float32 → <see cref="Floats"/>, float64 → <see cref="Doubles"/>,
/// the integer types and bool → <see cref="Integers"/>.
/// </summary>
/// <remarks>
/// The elements come from raw_data (fixed-width little-endian) or from the typed field the type uses (float_data,
/// double_data, int64_data, int32_data for int32/int16/int8/uint16/uint8/bool), never both. The element count
/// (the product of dims) is checked against the bytes or values present before an array of that size is made, so a
/// file cannot make the reader allocate more than it holds. Refused: data stored outside the file (external_data,
/// data_location = EXTERNAL), segments, and the types a model here cannot use (float16, bfloat16, strings, complex,
/// uint32/uint64), each naming the tensor.
/// </remarks>
internal sealed class OnnxTensorProto
{
    private OnnxTensorProto(string name, long[] dims, OnnxProto.DataType dataType)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
    }

    /// <summary>The tensor's name ("" for a Constant node's value or an attribute).</summary>
    public string Name { get; }

    /// <summary>The extents, row-major; empty for a scalar.</summary>
    public long[] Dims { get; }

    public OnnxProto.DataType DataType { get; }

    /// <summary>The elements of a float32 tensor, else null.</summary>
    public float[]? Floats { get; private init; }

    /// <summary>The elements of a float64 tensor, else null.</summary>
    public double[]? Doubles { get; private init; }

    /// <summary>The elements of an integer or bool tensor, widened to int64, else null.</summary>
    public long[]? Integers { get; private init; }

    /// <summary>True for float32 and float64.</summary>
    public bool IsReal => Floats is not null || Doubles is not null;

    /// <summary>The number of elements (1 for a scalar).</summary>
    public int Count => Floats?.Length ?? Doubles?.Length ?? Integers!.Length;

    /// <summary>The rank: the number of dims.</summary>
    public int Rank => Dims.Length;

    /// <summary>"[6, 5] float32".</summary>
    public string Describe() => $"{OnnxImport.Dims(Dims)} {TypeName(DataType)}";

    /// <summary>A float or double tensor's elements converted to <typeparamref name="T"/> with <paramref name="dims"/> (default: its own).</summary>
    public Tensor<T> ToTensor<T>(int[]? dims = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(dims ?? Dims.Select(d => (int)d).ToArray());
        var span = t.Span;
        if (span.Length != Count) throw new InvalidOperationException($"OnnxTensorProto: {Count} elements do not fill {t.Shape}.");
        if (Floats is not null) for (int i = 0; i < span.Length; i++) span[i] = T.CreateTruncating(Floats[i]);
        else if (Doubles is not null) for (int i = 0; i < span.Length; i++) span[i] = T.CreateTruncating(Doubles[i]);
        else for (int i = 0; i < span.Length; i++) span[i] = T.CreateTruncating(Integers![i]);
        return t;
    }

    /// <summary>Element <paramref name="i"/> as a double (any type).</summary>
    public double Real(int i) => Floats is not null ? Floats[i] : Doubles is not null ? Doubles[i] : Integers![i];

    /// <summary>The same tensor under another name (to bind a graph input to a constant).</summary>
    public OnnxTensorProto Renamed(string name) => new(name, Dims, DataType) { Floats = Floats, Doubles = Doubles, Integers = Integers };

    /// <summary>A copy with other dims and the same elements (their count must match).</summary>
    public OnnxTensorProto WithDims(long[] dims) => new(Name, dims, DataType) { Floats = Floats, Doubles = Doubles, Integers = Integers };

    /// <summary>A float tensor holding <paramref name="values"/>.</summary>
    public static OnnxTensorProto OfFloats(string name, long[] dims, float[] values) => new(name, dims, OnnxProto.DataType.Float) { Floats = values };

    /// <summary>An int64 tensor holding <paramref name="values"/>.</summary>
    public static OnnxTensorProto OfInt64s(string name, long[] dims, long[] values) => new(name, dims, OnnxProto.DataType.Int64) { Integers = values };

    /// <summary>A 2-D tensor's transpose: (a, b) → (b, a), the same type.</summary>
    public OnnxTensorProto Transpose2d(string name)
    {
        int rows = (int)Dims[0], cols = (int)Dims[1];
        long[] dims = [cols, rows];
        T[] Swap<T>(T[] v)
        {
            var r = new T[v.Length];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) r[j * rows + i] = v[i * cols + j];
            return r;
        }
        return new OnnxTensorProto(name, dims, DataType)
        {
            Floats = Floats is null ? null : Swap(Floats),
            Doubles = Doubles is null ? null : Swap(Doubles),
            Integers = Integers is null ? null : Swap(Integers),
        };
    }

    /// <summary>Reads a TensorProto message (see the class remarks for what is checked).</summary>
    public static OnnxTensorProto Read(ProtoReader r)
    {
        string name = "";
        var dims = new List<long>();
        int dataType = 0, dataLocation = 0;
        bool hasRaw = false, hasStrings = false, hasSegment = false, hasUint64 = false;
        string? location = null;
        bool hasExternal = false;
        ReadOnlySpan<byte> raw = default;
        List<float>? floats = null;
        List<double>? doubles = null;
        List<long>? int64s = null, int32s = null;
        while (r.Next(out int field))
        {
            switch (field)
            {
                case OnnxProto.Tensor.Dims: r.Int64s("dims", dims); break;
                case OnnxProto.Tensor.DataType: dataType = r.Int32("data_type"); break;
                case OnnxProto.Tensor.Segment: r.Bytes("segment"); hasSegment = true; break;
                case OnnxProto.Tensor.FloatData: r.Floats("float_data", floats ??= []); break;
                case OnnxProto.Tensor.Int32Data: r.Int64s("int32_data", int32s ??= []); break;
                case OnnxProto.Tensor.StringData: r.Bytes("string_data"); hasStrings = true; break;
                case OnnxProto.Tensor.Int64Data: r.Int64s("int64_data", int64s ??= []); break;
                case OnnxProto.Tensor.Name: name = r.String("name"); break;
                case OnnxProto.Tensor.RawData: raw = r.Bytes("raw_data"); hasRaw = true; break;
                case OnnxProto.Tensor.DoubleData: r.Doubles("double_data", doubles ??= []); break;
                case OnnxProto.Tensor.Uint64Data: r.Int64s("uint64_data", []); hasUint64 = true; break;
                case OnnxProto.Tensor.ExternalData:
                {
                    hasExternal = true;
                    var entry = r.Message("external_data");
                    string? key = null, value = null;
                    while (entry.Next(out int f))
                    {
                        if (f == OnnxProto.StringStringEntry.Key) key = entry.String("key");
                        else if (f == OnnxProto.StringStringEntry.Value) value = entry.String("value");
                        else entry.Skip();
                    }
                    if (key == "location") location = value;
                    break;
                }
                case OnnxProto.Tensor.DataLocation: dataLocation = r.Int32("data_location"); break;
                default: r.Skip(); break;
            }
        }

        string label = name.Length == 0 ? r.Path : $"{r.Path} ('{name}')";
        if (hasExternal || dataLocation == 1)
        {
            throw new NotSupportedException(
                $"{r.Source}: {label}: the tensor's data is stored outside the file{(location is null ? "" : $" (in '{location}')")}; " +
                "external data is not supported: save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False)).");
        }
        if (hasSegment) throw new NotSupportedException($"{r.Source}: {label}: segmented tensors (TensorProto.segment) are not supported.");
        var type = (OnnxProto.DataType)dataType;
        int elementSize = ElementSize(type);
        if (dataType == 0) throw new InvalidDataException($"{r.Source}: {label}.data_type: missing (0, UNDEFINED); every tensor states its element type.");
        if (elementSize == 0 || hasStrings || hasUint64)
            throw new NotSupportedException($"{r.Source}: {label}: data type {TypeName(type)} is not supported (float32, float64 and the integer types are).");

        // The element count, checked before anything of that size exists.
        long count = 1;
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] < 0) throw new InvalidDataException($"{r.Source}: {label}.dims: extent {dims[i]} is negative (dims {OnnxImport.Dims(dims)}).");
            count = dims[i] == 0 ? 0 : count > Array.MaxLength / dims[i] ? long.MaxValue : count * dims[i];
        }
        if (count > Array.MaxLength) throw new InvalidDataException($"{r.Source}: {label}.dims: {OnnxImport.Dims(dims)} hold more elements than an array can.");
        int n = (int)count;
        var dimsArray = dims.ToArray();

        string typedName = type switch
        {
            OnnxProto.DataType.Float => "float_data",
            OnnxProto.DataType.Double => "double_data",
            OnnxProto.DataType.Int64 => "int64_data",
            _ => "int32_data",
        };
        int typedCount = type switch
        {
            OnnxProto.DataType.Float => floats?.Count ?? -1,
            OnnxProto.DataType.Double => doubles?.Count ?? -1,
            OnnxProto.DataType.Int64 => int64s?.Count ?? -1,
            _ => int32s?.Count ?? -1,
        };
        int wrongTyped = (type != OnnxProto.DataType.Float ? floats?.Count ?? 0 : 0) + (type != OnnxProto.DataType.Double ? doubles?.Count ?? 0 : 0)
            + (type != OnnxProto.DataType.Int64 ? int64s?.Count ?? 0 : 0) + (typedName != "int32_data" ? int32s?.Count ?? 0 : 0);
        if (wrongTyped > 0)
            throw new InvalidDataException($"{r.Source}: {label}: a {TypeName(type)} tensor keeps its values in {typedName} or raw_data, but another typed field holds {wrongTyped} values.");
        if (hasRaw && typedCount > 0)
            throw new InvalidDataException($"{r.Source}: {label}: both raw_data and {typedName} hold values; a tensor uses one of them.");
        if (hasRaw)
        {
            long expected = (long)n * elementSize;
            if (raw.Length != expected)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Source}: {label}.raw_data: {raw.Length} bytes, but dims {OnnxImport.Dims(dims)} of {TypeName(type)} need {expected}."));
            }
            return Decode(name, dimsArray, type, raw, n);
        }
        int have = Math.Max(typedCount, 0);
        if (have != n)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{r.Source}: {label}.{typedName}: {have} values, but dims {OnnxImport.Dims(dims)} need {n}{(have == 0 && !hasRaw ? " (and there is no raw_data)" : "")}."));
        }
        return type switch
        {
            OnnxProto.DataType.Float => new OnnxTensorProto(name, dimsArray, type) { Floats = floats?.ToArray() ?? [] },
            OnnxProto.DataType.Double => new OnnxTensorProto(name, dimsArray, type) { Doubles = doubles?.ToArray() ?? [] },
            OnnxProto.DataType.Int64 => new OnnxTensorProto(name, dimsArray, type) { Integers = int64s?.ToArray() ?? [] },
            // int32_data holds every narrower integer type and bool as int32 values.
            _ => new OnnxTensorProto(name, dimsArray, type) { Integers = int32s?.Select(v => (long)unchecked((int)v)).ToArray() ?? [] },
        };
    }

    private static OnnxTensorProto Decode(string name, long[] dims, OnnxProto.DataType type, ReadOnlySpan<byte> raw, int n)
    {
        switch (type)
        {
            case OnnxProto.DataType.Float:
            {
                var v = new float[n];
                for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                return new OnnxTensorProto(name, dims, type) { Floats = v };
            }
            case OnnxProto.DataType.Double:
            {
                var v = new double[n];
                for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                return new OnnxTensorProto(name, dims, type) { Doubles = v };
            }
            default:
            {
                var v = new long[n];
                for (int i = 0; i < n; i++)
                {
                    v[i] = type switch
                    {
                        OnnxProto.DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                        OnnxProto.DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                        OnnxProto.DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
                        OnnxProto.DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
                        OnnxProto.DataType.Int8 => (sbyte)raw[i],
                        _ => raw[i],   // uint8, bool
                    };
                }
                return new OnnxTensorProto(name, dims, type) { Integers = v };
            }
        }
    }

    /// <summary>Bytes per element in raw_data; 0 for the types a model here cannot use.</summary>
    private static int ElementSize(OnnxProto.DataType type) => type switch
    {
        OnnxProto.DataType.Float or OnnxProto.DataType.Int32 => 4,
        OnnxProto.DataType.Double or OnnxProto.DataType.Int64 => 8,
        OnnxProto.DataType.Int16 or OnnxProto.DataType.Uint16 => 2,
        OnnxProto.DataType.Int8 or OnnxProto.DataType.Uint8 or OnnxProto.DataType.Bool => 1,
        _ => 0,
    };

    /// <summary>"float32", "int64", … or "type 42" for a number onnx.proto does not define.</summary>
    public static string TypeName(OnnxProto.DataType type) => type switch
    {
        OnnxProto.DataType.Float => "float32",
        OnnxProto.DataType.Double => "float64",
        OnnxProto.DataType.Float16 => "float16",
        OnnxProto.DataType.BFloat16 => "bfloat16",
        OnnxProto.DataType.Bool => "bool",
        OnnxProto.DataType.String => "string",
        OnnxProto.DataType.Complex64 => "complex64",
        OnnxProto.DataType.Complex128 => "complex128",
        OnnxProto.DataType.Undefined => "undefined",
        _ when Enum.IsDefined(type) => type.ToString().ToLowerInvariant(),
        _ => string.Create(CultureInfo.InvariantCulture, $"type {(int)type}"),
    };
}
