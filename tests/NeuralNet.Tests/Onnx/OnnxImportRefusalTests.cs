using System.Globalization;
using NeuralNet.Onnx;
using NeuralNet.Tensors;
using Xunit.Abstractions;
using OnnxApi = NeuralNet.Onnx.Onnx;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// What ONNX import refuses, and how: a graph with no equivalent here is a <see cref="NotSupportedException"/> naming the
/// file and the first node (name and op_type) or attribute; a damaged file is one <see cref="InvalidDataException"/>
/// naming the file and the field, never another exception, and never an allocation the file's bytes do not justify.
/// </summary>
public sealed class OnnxImportRefusalTests(ITestOutputHelper output)
{
    private const string File = "refused.onnx";

    private static Exception Refusal(byte[] bytes) =>
        Record.Exception(() => OnnxApi.Import<float>(new MemoryStream(bytes), File)) ?? throw new Xunit.Sdk.XunitException("the import succeeded");

    /// <summary>x (N, 1, 6, 6) → Conv(w) with <paramref name="attributes"/> → y.</summary>
    private static byte[] Conv(params Action<ProtoWriter>[] attributes) => new OnnxTestModel()
        .Input("x", null, 1, 6, 6).Output("y").Initializer("w", [2, 1, 3, 3])
        .Node("Conv", "conv", ["x", "w"], ["y"], attributes).ToBytes();

    /// <summary>x (N, 1, 6, 6) → MaxPool with <paramref name="attributes"/> (kernel 2 unless given) → y.</summary>
    private static byte[] MaxPool(params Action<ProtoWriter>[] attributes) => new OnnxTestModel()
        .Input("x", null, 1, 6, 6).Output("y")
        .Node("MaxPool", "pool", ["x"], ["y"], [OnnxTestModel.Ints("kernel_shape", 2, 2), .. attributes]).ToBytes();

    public static TheoryData<string, byte[], string> Unsupported => new()
    {
        {
            "an unsupported operator, named with its node",
            new OnnxTestModel().Input("x", null, 4).Output("y").Node("Relu", "first", ["x"], ["h"]).Node("Elu", "act", ["h"], ["y"]).ToBytes(),
            "refused.onnx: node 1 'act' (Elu): operator Elu has no layer here"
        },
        { "dilations", Conv(OnnxTestModel.Ints("dilations", 2, 2)), "node 0 'conv' (Conv): dilations [2, 2]" },
        { "group", Conv(OnnxTestModel.Int("group", 2)), "(Conv): group = 2" },
        { "asymmetric pads", Conv(OnnxTestModel.Ints("pads", 0, 0, 1, 1)), "(Conv): pads [0, 0, 1, 1] are not the same on every side" },
        { "auto_pad SAME_UPPER", Conv(OnnxTestModel.String("auto_pad", "SAME_UPPER")), "(Conv): auto_pad = SAME_UPPER" },
        { "two strides", Conv(OnnxTestModel.Ints("strides", 1, 2)), "(Conv): strides [1, 2] differ" },
        { "an unknown attribute", Conv(OnnxTestModel.Int("fancy", 1)), "(Conv): attribute 'fancy' = 1 is not one this importer knows" },
        { "ceil_mode", MaxPool(OnnxTestModel.Int("ceil_mode", 1)), "node 0 'pool' (MaxPool): ceil_mode = 1" },
        { "pool padding", MaxPool(OnnxTestModel.Ints("pads", 1, 1, 1, 1)), "(MaxPool): pads [1, 1, 1, 1]: MaxPool2d has no padding" },
        { "storage_order", MaxPool(OnnxTestModel.Int("storage_order", 1)), "(MaxPool): storage_order = 1" },
        { "pool dilations", MaxPool(OnnxTestModel.Ints("dilations", 2, 2)), "(MaxPool): dilations [2, 2]" },
        {
            "count_include_pad is accepted without pads, but pads are not",
            new OnnxTestModel().Input("x", null, 1, 6, 6).Output("y").Node("AveragePool", "avg", ["x"], ["y"],
                OnnxTestModel.Ints("kernel_shape", 3, 3), OnnxTestModel.Int("count_include_pad", 1), OnnxTestModel.Ints("pads", 1, 1, 1, 1)).ToBytes(),
            "node 0 'avg' (AveragePool): pads [1, 1, 1, 1]: AvgPool2d has no padding"
        },
        {
            "a non-square pool window",
            new OnnxTestModel().Input("x", null, 1, 6, 6).Output("y").Node("AveragePool", "avg", ["x"], ["y"], OnnxTestModel.Ints("kernel_shape", 2, 3)).ToBytes(),
            "(AveragePool): the 2×3 window is not square"
        },
        {
            "a 1-D convolution",
            new OnnxTestModel().Input("x", null, 1, 6).Output("y").Initializer("w", [2, 1, 3]).Node("Conv", "c1d", ["x", "w"], ["y"]).ToBytes(),
            "node 0 'c1d' (Conv): Conv over a rank-3 input (N, 1, 6)"
        },
        {
            "Gemm with transA",
            new OnnxTestModel().Input("x", null, 3).Output("y").Initializer("w", [2, 3]).Node("Gemm", "fc", ["x", "w"], ["y"], OnnxTestModel.Int("transA", 1)).ToBytes(),
            "node 0 'fc' (Gemm): transA = 1"
        },
        {
            "Softmax not over the last axis",
            new OnnxTestModel().Input("x", null, 3, 4).Output("y").Node("Softmax", "sm", ["x"], ["y"], OnnxTestModel.Int("axis", 1)).ToBytes(),
            "node 0 'sm' (Softmax): axis = 1 of a rank-3 input"
        },
        {
            "a branch (a skip connection)",
            new OnnxTestModel().Input("x", null, 4).Output("y").Node("Relu", "a", ["x"], ["h"]).Node("Sigmoid", "b", ["x"], ["y"]).ToBytes(),
            "node 1 'b' (Sigmoid): its input 'x' is an earlier value, not the output of the layer before it ('h')"
        },
        {
            "a residual Add of two computed values",
            new OnnxTestModel().Input("x", null, 4).Output("y").Node("Relu", "a", ["x"], ["h"]).Node("Add", "skip", ["x", "h"], ["y"]).ToBytes(),
            "node 1 'skip' (Add): Add of two computed values ('x', 'h'): a skip connection"
        },
        {
            "two data inputs",
            new OnnxTestModel().Input("x", null, 4).Input("z", null, 4).Output("y").Node("Relu", "a", ["x"], ["y"]).ToBytes(),
            "refused.onnx: the graph has 2 inputs ('x', 'z')"
        },
        {
            "a Reshape that is not a flatten",
            new OnnxTestModel().Input("x", null, 2, 6).Output("y").Int64s("s", [3], 0, 3, 4).Node("Reshape", "r", ["x", "s"], ["y"]).ToBytes(),
            "node 0 'r' (Reshape): Reshape of (N, 2, 6) to [0, 3, 4]"
        },
        { "an opset this importer does not read", new OnnxTestModel(opset: 18).Input("x", null, 4).Output("y").Node("Relu", "a", ["x"], ["y"]).ToBytes(), "refused.onnx: opset 18" },
        {
            "external data",
            new OnnxTestModel().Input("x", null, 3).Output("y")
                .Tensor("w", [2, 3], OnnxProto.DataType.Float, t =>
                {
                    t.WriteMessage(OnnxProto.Tensor.ExternalData, e => { e.WriteString(1, "location"); e.WriteString(2, "weights.bin"); });
                    t.WriteInt64(OnnxProto.Tensor.DataLocation, 1);
                })
                .Node("Gemm", "fc", ["x", "w"], ["y"], OnnxTestModel.Int("transB", 1)).ToBytes(),
            "refused.onnx: ModelProto.graph.initializer[0] ('w'): the tensor's data is stored outside the file (in 'weights.bin')"
        },
        {
            "float16 weights",
            new OnnxTestModel().Input("x", null, 3).Output("y")
                .Tensor("w", [2, 3], OnnxProto.DataType.Float16, t => t.WriteBytes(OnnxProto.Tensor.RawData, new byte[12]))
                .Node("Gemm", "fc", ["x", "w"], ["y"], OnnxTestModel.Int("transB", 1)).ToBytes(),
            "refused.onnx: ModelProto.graph.initializer[0] ('w'): data type float16 is not supported"
        },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Unsupported_graph_is_refused_naming_the_file_and_the_node_or_field(string what, byte[] bytes, string expected)
    {
        var e = Refusal(bytes);
        output.WriteLine($"{what}: {e.GetType().Name}: {e.Message}");
        Assert.IsType<NotSupportedException>(e);
        Assert.StartsWith(File + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Each_refused_graph_imports_once_the_refused_part_is_fixed()
    {
        // The refusals above are about the part named, not the rest of the graph: the same graphs with it fixed import.
        var conv = OnnxApi.Import<float>(new MemoryStream(Conv(OnnxTestModel.Ints("dilations", 1, 1), OnnxTestModel.Ints("pads", 1, 1, 1, 1))), File);
        Assert.Equal([2, 6, 6], conv.OutputShape!);
        var pool = OnnxApi.Import<float>(new MemoryStream(MaxPool(OnnxTestModel.Int("ceil_mode", 0), OnnxTestModel.Ints("pads", 0, 0, 0, 0))), File);
        Assert.Equal([1, 5, 5], pool.OutputShape!);   // ONNX's strides default to 1, not to the window
        var flatten = OnnxApi.Import<float>(new MemoryStream(new OnnxTestModel().Input("x", null, 2, 6).Output("y").Int64s("s", [2], 0, -1)
            .Node("Reshape", "r", ["x", "s"], ["y"]).ToBytes()), File);
        Assert.Equal([12], flatten.OutputShape!);
    }

    [Fact]
    public void A_reshape_to_the_static_batch_is_a_flatten_that_takes_any_batch()
    {
        // Exported with a fixed batch of 2, x.view(x.size(0), -1) is Reshape(x, [2, 12]); the Flatten here takes any N.
        var imported = OnnxApi.Import<float>(new MemoryStream(new OnnxTestModel().Input("x", 2, 3, 4).Output("y").Int64s("s", [2], 2, 12)
            .Node("Reshape", "view", ["x", "s"], ["y"]).ToBytes()), File);
        Assert.Equal("Flatten", imported.Model[0].GetType().Name.Split('`')[0]);
        Assert.Equal([3, 4], imported.InputShape!);
        var x = Tensor<float>.RandomNormal(new Rng(1), 0, 1, 5, 3, 4);
        var y = imported.Model.Forward(x);
        Assert.Equal(new Shape(5, 12), y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
        // The same constant against a symbolic batch says nothing about the batch: refused.
        var e = Refusal(new OnnxTestModel().Input("x", null, 3, 4).Output("y").Int64s("s", [2], 2, 12).Node("Reshape", "view", ["x", "s"], ["y"]).ToBytes());
        Assert.Contains("node 0 'view' (Reshape): Reshape of (N, 3, 4) to [2, 12]", e.Message);
    }

    [Fact]
    public void A_matmul_bias_given_by_a_constant_node_between_the_two_is_still_its_bias()
    {
        var imported = OnnxApi.Import<float>(new MemoryStream(new OnnxTestModel().Input("x", null, 3).Output("y").Initializer("w", [3, 2])
            .Node("MatMul", "mm", ["x", "w"], ["h"])
            .Node("Constant", "b", [], ["bias"], a =>
            {
                a.WriteString(OnnxProto.Attribute.Name, "value_floats");
                a.WriteVarint(OnnxProto.Attribute.Type, (ulong)OnnxProto.AttributeType.Floats);
                a.WriteFloat(OnnxProto.Attribute.Floats, 10f);
                a.WriteFloat(OnnxProto.Attribute.Floats, 20f);
            })
            .Node("Add", "add", ["h", "bias"], ["y"]).ToBytes()), File);
        var linear = Assert.IsType<NeuralNet.Layers.Linear<float>>(Assert.Single(imported.Model.Modules));
        Assert.Equal([10f, 20f], linear.Bias!.Value.ToArray());
        // W (out, in) is B (in, out) transposed: B = 0.1·[[1, 2], [3, 4], [5, 6]].
        Assert.Equal([0.1f, 0.3f, 0.5f, 0.2f, 0.4f, 0.6f], linear.Weight.Value.ToArray());
    }

    [Fact]
    public void A_checkpoint_reader_given_an_onnx_file_says_what_it_is()
    {
        var e = Assert.Throws<InvalidDataException>(() => NeuralNet.Checkpoints.Checkpoint.Load<float>(OnnxImportTests.Fixture("mlp_opset11.onnx")));
        Assert.Contains("mlp_opset11.onnx: not a checkpoint: it is an ONNX model (turn it into a checkpoint with 'nn import' or Onnx.Import)", e.Message);
    }

    [Fact]
    public void Truncating_a_file_anywhere_gives_an_invalid_data_error_naming_the_file_and_a_field_or_a_complete_model()
    {
        byte[] bytes = System.IO.File.ReadAllBytes(OnnxImportTests.Fixture("cnn_view_opset13.onnx"));
        int errors = 0, loaded = 0;
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Record.Exception(() => OnnxApi.Import<float>(new MemoryStream(bytes, 0, length), File));
            if (e is null)
            {
                loaded++;   // cut between two top-level fields after the graph: what is left is a whole model
                continue;
            }
            Assert.True(e is InvalidDataException or NotSupportedException, $"cut at {length}: {e.GetType().Name}: {e.Message}");
            Assert.StartsWith(File + ": ", e.Message);
            if (e is InvalidDataException)
            {
                errors++;
                if (e.Message.Contains("ModelProto", StringComparison.Ordinal)) fields.Add(e.Message.Split(':')[1].Trim().Split('[')[0]);
            }
        }
        output.WriteLine($"{bytes.Length} cuts: {errors} InvalidDataException, {loaded} whole models; fields named include {string.Join(", ", fields.Take(8))}");
        Assert.True(loaded < 4, $"{loaded} truncated files loaded");
        Assert.True(errors > bytes.Length * 9 / 10);
        // The file ends in the middle of the graph: the cut is named down to the message it falls in.
        var mid = Assert.IsType<InvalidDataException>(Refusal(bytes[..(bytes.Length / 2)]));
        Assert.Matches(@"^refused\.onnx: ModelProto\.graph(\.\w+\[\d+\])*(\.\w+)?: ", mid.Message);
    }

    /// <summary>Finds the raw_data field (tag 0x4A) of an initializer of <paramref name="byteCount"/> bytes; returns the offset of its length varint.</summary>
    private static int RawDataLength(byte[] bytes, int byteCount)
    {
        Span<byte> pattern = stackalloc byte[11];
        pattern[0] = 0x4A;
        int n = ProtoWire.WriteVarint((ulong)byteCount, pattern[1..]);
        int at = bytes.AsSpan().IndexOf(pattern[..(1 + n)]);
        Assert.True(at >= 0, "raw_data field not found");
        return at + 1;
    }

    [Fact]
    public void A_bit_flipped_length_field_is_an_invalid_data_error_naming_the_file_and_the_field_before_any_allocation()
    {
        byte[] bytes = System.IO.File.ReadAllBytes(OnnxImportTests.Fixture("mlp_opset17.onnx"));
        // 1.weight is (16, 20) float32: raw_data of 1280 bytes, the varint 0x80 0x0A. Set bit 6 of its second byte: 9472.
        int at = RawDataLength(bytes, 1280);
        byte[] flipped = (byte[])bytes.Clone();
        flipped[at + 1] ^= 0x40;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.IsType<InvalidDataException>(Refusal(flipped));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{e.Message} ({allocated:N0} bytes allocated)");
        Assert.Matches(@"^refused\.onnx: ModelProto\.graph\.initializer\[\d+\]\.raw_data: declared length 9472 exceeds the 1280 bytes left$", e.Message);

        // A length of 2⁶³ − 1 in the graph field itself: refused before anything of that size is made.
        int graphTag = TopLevelField(bytes, OnnxProto.Model.Graph);
        Assert.True(ProtoWire.TryReadVarint(bytes.AsSpan(graphTag + 1), out _, out int n));
        var e2 = Assert.IsType<InvalidDataException>(Refusal([.. bytes[..(graphTag + 1)], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, .. bytes[(graphTag + 1 + n)..]]));
        Assert.StartsWith("refused.onnx: ModelProto.graph: declared length 9223372036854775807 exceeds the", e2.Message);
    }

    /// <summary>The offset of the tag of top-level field <paramref name="number"/> (a length-delimited one) in a ModelProto.</summary>
    private static int TopLevelField(byte[] bytes, int number)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            Assert.True(ProtoWire.TryReadVarint(bytes.AsSpan(at), out ulong tag, out int n));
            var (field, type) = ProtoWire.SplitTag(tag);
            if (field == number) return at;
            at += n;
            Assert.True(ProtoWire.TryReadVarint(bytes.AsSpan(at), out ulong value, out n));
            at += n + (type == WireType.LengthDelimited ? (int)value : 0);
        }
        throw new Xunit.Sdk.XunitException($"field {number} not found");
    }

    [Fact]
    public void Dims_larger_than_the_data_are_refused_before_the_tensor_is_allocated()
    {
        foreach (var (dims, expected) in new (long[], string)[]
        {
            ([30000, 30000], "ModelProto.graph.initializer[0] ('w').raw_data: 4 bytes, but dims [30000, 30000] of float32 need 3600000000."),
            ([1L << 40, 1L << 40], "ModelProto.graph.initializer[0] ('w').dims: [1099511627776, 1099511627776] hold more elements than an array can."),
            ([-5, 2], "ModelProto.graph.initializer[0] ('w').dims: extent -5 is negative"),
        })
        {
            byte[] bytes = new OnnxTestModel().Input("x", null, 3).Output("y")
                .Tensor("w", dims, OnnxProto.DataType.Float, t => t.WriteBytes(OnnxProto.Tensor.RawData, new byte[4]))
                .Node("Gemm", "fc", ["x", "w"], ["y"]).ToBytes();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.IsType<InvalidDataException>(Refusal(bytes));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains(expected, e.Message);
            Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated for {e.Message}");
        }
        // float_data claiming more values than it has.
        byte[] typed = new OnnxTestModel().Input("x", null, 3).Output("y")
            .Tensor("w", [2, 3], OnnxProto.DataType.Float, t => t.WriteFloat(OnnxProto.Tensor.FloatData, 1f))
            .Node("Gemm", "fc", ["x", "w"], ["y"]).ToBytes();
        Assert.Contains("('w').float_data: 1 values, but dims [2, 3] need 6.", Refusal(typed).Message);
    }

    [Fact]
    public void Wrong_wire_types_groups_and_bad_utf8_are_invalid_data_naming_the_field()
    {
        // ir_version as a string; a group; op_type that is not UTF-8.
        byte[] wrongType = [0x0A, 0x01, 0x41];
        Assert.Equal("refused.onnx: ModelProto.ir_version: wire type 2 (length-delimited), expected 0 (varint)", Refusal(wrongType).Message);
        byte[] group = [0x08, 0x08, 0x3B];
        Assert.Equal("refused.onnx: ModelProto.(field 7): uses a group (wire type 3 or 4), which ONNX files never contain", Refusal(group).Message);
        var badText = new ProtoWriter();
        badText.WriteMessage(OnnxProto.Model.Graph, g => g.WriteMessage(OnnxProto.Graph.Node, n => n.WriteBytes(OnnxProto.Node.OpType, [0xC3, 0x28])));
        Assert.Equal("refused.onnx: ModelProto.graph.node[0].op_type: is not valid UTF-8", Refusal(badText.ToArray()).Message);
        byte[] overlong = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        Assert.Equal("refused.onnx: ModelProto.ir_version: a varint runs past ten bytes", Refusal(overlong).Message);
        Assert.Equal("refused.onnx: the file is empty; an ONNX model is a ModelProto with at least a graph.", Refusal([]).Message);
        // An .npz: 'P' reads as field 10 (a varint, 'K'), then 0x03 is no tag at all.
        Assert.Equal("refused.onnx: ModelProto.(tag): field number 0 at byte 2 (a tag must name a field)", Refusal("PK\x03\x04"u8.ToArray()).Message);
        byte[] noGraph = [0x08, 0x08];
        Assert.Equal("refused.onnx: ModelProto.graph: missing; this is not an ONNX model (a ModelProto holds its graph in field 7)", Refusal(noGraph).Message);
    }

    /// <summary>
    /// Random single-bit flips all over a real file (a fixed sample): each file imports (a flipped weight is still a weight)
    /// or is refused with one of the two documented exceptions, its message starting with the file name. Never an
    /// IndexOutOfRange, Overflow, OutOfMemory or Argument exception.
    /// </summary>
    [Fact]
    public void Random_bit_flips_never_crash_the_importer()
    {
        byte[] bytes = System.IO.File.ReadAllBytes(OnnxImportTests.Fixture("cnn_view_opset13.onnx"));
        var rng = new Rng(11);
        int invalid = 0, unsupported = 0, loaded = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] flipped = (byte[])bytes.Clone();
            int at = rng.NextInt(bytes.Length), bit = rng.NextInt(8);
            flipped[at] ^= (byte)(1 << bit);
            var e = Record.Exception(() => OnnxApi.Import<float>(new MemoryStream(flipped), File));
            switch (e)
            {
                case null: loaded++; break;
                case InvalidDataException: invalid++; break;
                case NotSupportedException: unsupported++; break;
                default: Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"byte {at} bit {bit}: {e}")); break;
            }
            if (e is not null) Assert.True(e.Message.StartsWith(File + ": ", StringComparison.Ordinal), $"byte {at} bit {bit}: {e.Message}");
        }
        output.WriteLine($"3000 single-bit flips of cnn_view_opset13.onnx: {loaded} import, {invalid} InvalidDataException, {unsupported} NotSupportedException");
        Assert.True(invalid > 0 && unsupported > 0 && loaded > 0);
    }
}
