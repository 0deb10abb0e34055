using System.Buffers.Binary;
using System.Text;
using NeuralNet.Checkpoints;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>The safetensors writer's layout, its round trip, and every check of the reader on a crafted file.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A safetensors file from its parts: the u64 length (the header's own unless given), the header bytes, the data.
    private string Craft(string fileName, byte[] header, byte[] data, ulong? declaredLength = null)
    {
        string path = Path.Combine(_dir, fileName);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Craft(string fileName, string header, int dataBytes) => Craft(fileName, Encoding.UTF8.GetBytes(header), new byte[dataBytes]);

    private static string Error(string path)
    {
        var e = Assert.Throws<InvalidDataException>(() => new SafetensorsReader(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message);
        return e.Message;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void Writer_sorts_by_name_packs_the_data_and_pads_the_header_with_spaces_to_8_bytes()
    {
        var a = Tensor<float>.FromArray([1f, 2f, 3f], 3);
        var b = Tensor<float>.FromArray([4f, 5f], 1, 2);
        using var ms = new MemoryStream();
        Safetensors.Write(ms, [("bias", b), ("a", a)]);
        byte[] bytes = ms.ToArray();

        const string json = """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"bias":{"dtype":"F32","shape":[1,2],"data_offsets":[12,20]}}""";
        int padded = (json.Length + 7) / 8 * 8;
        Assert.NotEqual(json.Length, padded);  // this example does need padding
        Assert.Equal((ulong)padded, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(json + new string(' ', padded - json.Length), Encoding.UTF8.GetString(bytes, 8, padded));
        Assert.Equal(Floats(1, 2, 3, 4, 5), bytes[(8 + padded)..]);
    }

    [Fact]
    public void Empty_file_and_metadata_first_as_the_reference_writes_them()
    {
        using var empty = new MemoryStream();
        Safetensors.Write(empty, Array.Empty<(string, Tensor<float>)>());
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8.ToArray()], empty.ToArray());

        using var ms = new MemoryStream();
        Safetensors.Write(ms, [("w", Tensor<double>.FromArray([0.5], 1))], new Dictionary<string, string> { ["z"] = "1", ["framework"] = "pt" });
        string header = Encoding.UTF8.GetString(ms.ToArray(), 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(ms.ToArray()));
        Assert.Equal("""{"__metadata__":{"framework":"pt","z":"1"},"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}""", header.TrimEnd(' '));
    }

    [Fact]
    public void Round_trip_is_bit_exact_for_float_and_double_with_metadata_scalars_and_empty_tensors()
    {
        var rng = new Rng(3);
        var w = Tensor<float>.RandomNormal(rng, 0, 1, 4, 3, 2);
        w[0] = float.NaN;
        w[1] = -0f;
        w[2] = float.Epsilon;
        var tensors = new (string, Tensor<float>)[] { ("layer.weight", w), ("scalar", Tensor<float>.Scalar(7.25f)), ("empty", new Tensor<float>(0, 5)) };
        string path = Path.Combine(_dir, "f.safetensors");
        var meta = new Dictionary<string, string> { ["note"] = "ünïcode \"quoted\" + <tags>" };
        Safetensors.Save(path, tensors, meta);

        using (var st = new SafetensorsReader(path))
        {
            Assert.Equal(new[] { "empty", "layer.weight", "scalar" }, st.Names);
            Assert.Equal(meta["note"], st.Metadata["note"]);
            foreach (var (name, t) in tensors)
            {
                var back = st.Get<float>(name);
                Assert.Equal(t.Shape, back.Shape);
                Assert.Equal(t.ToArray().Select(BitConverter.SingleToInt32Bits), back.ToArray().Select(BitConverter.SingleToInt32Bits));
            }
            Assert.Equal("F32", st.Info("layer.weight").DType);
            Assert.Equal(new ulong[] { 4, 3, 2 }, st.Info("layer.weight").Shape);
        }

        var d = Tensor<double>.RandomNormal(rng, 0, 1, 7);
        string dpath = Path.Combine(_dir, "d.safetensors");
        Safetensors.Save(dpath, [("x", d)]);
        using var sd = new SafetensorsReader(dpath);
        Assert.Equal("F64", sd.Info("x").DType);
        Assert.Equal([Safetensors.Sha256Key], sd.Metadata.Keys);
        Assert.True(d.ContentEquals(sd.Get<double>("x")));
        Assert.Equal(d.ToArray().Select(v => (float)v), sd.Get<float>("x").ToArray());  // F64 → float rounds to nearest
    }

    [Fact]
    public void Writer_refuses_repeated_and_reserved_names()
    {
        using var ms = new MemoryStream();
        var t = new Tensor<float>(1);
        Assert.Contains("'a' is given twice", Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [("a", t), ("a", t)])).Message);
        Assert.Contains("__metadata__", Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [("__metadata__", t)])).Message);
    }

    [Fact]
    public void Header_order_need_not_be_offset_order_and_other_dtypes_convert()
    {
        // Listed b, a, c but stored a, b, c: the reference sorts by offsets before validating.
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes((Half)1.5));
        data.AddRange(BitConverter.GetBytes((Half)(-2)));                  // a: F16 [2]     [0, 4)
        data.AddRange(BitConverter.GetBytes((ushort)0x3FC0));             // b: BF16 [1] = 1.5   [4, 6)
        data.AddRange(new byte[2]);                                       // pad: U8 [2]    [6, 8)
        data.AddRange(BitConverter.GetBytes(-7L));                        // c: I64 []      [8, 16)
        string header = """
            {"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},
             "a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},
             "pad":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},
             "c":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}
            """;
        string path = Craft("mixed.safetensors", Encoding.UTF8.GetBytes(header), data.ToArray());
        using var st = new SafetensorsReader(path);
        Assert.Equal(new[] { "a", "b", "pad", "c" }, st.Names);
        Assert.Equal(new[] { 1.5f, -2f }, st.Get<float>("a").ToArray());
        Assert.Equal(new[] { 1.5 }, st.Get<double>("b").ToArray());
        Assert.Equal(new[] { -7f }, st.Get<float>("c").ToArray());
        Assert.Equal(0, st.Get<float>("c").Rank);
    }

    [Fact]
    public void Known_dtypes_that_cannot_be_loaded_still_validate_and_are_refused_by_name()
    {
        string path = Craft("f8.safetensors", """{"q":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[0,3]},"packed":{"dtype":"F4","shape":[2,3],"data_offsets":[3,6]}}""", 6);
        using var st = new SafetensorsReader(path);
        var e = Assert.Throws<InvalidDataException>(() => st.Get<float>("q"));
        Assert.Contains("'q'", e.Message);
        Assert.Contains("F8_E4M3", e.Message);
        Assert.Contains("\"dtype\"", e.Message);
        Assert.Contains("F4", Assert.Throws<InvalidDataException>(() => st.Get<float>("packed")).Message);
        Assert.Contains("no tensor 'zzz'", Assert.Throws<KeyNotFoundException>(() => st.Get<float>("zzz")).Message);
    }

    [Fact]
    public void Header_too_small_too_large_or_past_the_end()
    {
        string tiny = Path.Combine(_dir, "tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 0, 0, 0, 0]);
        Assert.Contains("header too small", Error(tiny));

        string large = Craft("large.safetensors", "{}", 0);
        using (var f = new FileStream(large, FileMode.Open)) f.Write(BitConverter.GetBytes(100_000_001UL));
        string m = Error(large);
        Assert.Contains("header too large", m);
        Assert.Contains("100000001", m);

        string past = Craft("past.safetensors", Encoding.UTF8.GetBytes("{}"), [], declaredLength: 50);
        m = Error(past);
        Assert.Contains("invalid header length", m);
        Assert.Contains("50 bytes", m);
    }

    [Fact]
    public void Header_not_utf8_not_an_object_or_not_json()
    {
        Assert.Contains("not valid UTF-8", Error(Craft("utf8.safetensors", [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}'], [])));
        Assert.Contains("must start with '{' but starts with ' '", Error(Craft("space.safetensors", " {}     ", 0)));
        Assert.Contains("must start with '{' but starts with '['", Error(Craft("array.safetensors", "[]", 0)));
        Assert.Contains("header is empty", Error(Craft("nothing.safetensors", "", 0)));
        Assert.Contains("not valid JSON", Error(Craft("broken.safetensors", """{"a":{"dtype":"F32",""", 0)));
        Assert.Contains("not valid JSON", Error(Craft("nul-padded.safetensors", "{}\0\0\0\0\0\0", 0)));
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}""", "'w'", "unknown \"dtype\" \"F128\"")]
    [InlineData("""{"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""", "'w'", "\"dtype\" must be a string")]
    [InlineData("""{"w":{"shape":[1],"data_offsets":[0,4]}}""", "'w'", "lacks \"dtype\"")]
    [InlineData("""{"w":{"dtype":"F32","data_offsets":[0,4]}}""", "'w'", "lacks \"shape\"")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1]}}""", "'w'", "lacks \"data_offsets\"")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "'w'", "\"shape\" must hold non-negative integers below 2^64, but has -1")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", "'w'", "\"shape\" must hold non-negative integers")]
    [InlineData("""{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}""", "'w'", "below 2^64")]
    [InlineData("""{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}""", "'w'", "\"shape\" must be an array")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}""", "'w'", "\"data_offsets\" must be [begin, end], got 3 numbers")]
    [InlineData("""{"w":[1,2]}""", "'w'", "must be an object with \"dtype\"")]
    [InlineData("""{"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}""", "'w'", "\"dtype\" twice")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "'w'", "appears twice")]
    [InlineData("""{"__metadata__":{"epochs":3},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "\"epochs\"", "must map strings to strings")]
    [InlineData("""{"__metadata__":["a"],"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "__metadata__", "must be an object of strings")]
    [InlineData("""{"__metadata__":{},"__metadata__":{},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "__metadata__", "appears twice")]
    public void Malformed_entries_name_the_tensor_and_the_field(string header, string what, string problem)
    {
        string m = Error(Craft("entry.safetensors", header, 8));
        Assert.Contains("invalid header", m);
        Assert.Contains(what, m);
        Assert.Contains(problem, m);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensor 'a'", "gap of 4 bytes after the start of the data buffer")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "tensor 'b'", "gap of 4 bytes after tensor 'a', which ends at 4")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensor 'b'", "overlap tensor 'a', which ends at 8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", 4, "tensor 'a'", "\"data_offsets\" [4, 0] end before they begin")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775808]}}""", 4, "tensor 'a'", "past 2^63 bytes")]
    public void Offsets_must_tile_the_buffer_in_order(string header, int dataBytes, string tensor, string problem)
    {
        string m = Error(Craft("offsets.safetensors", header, dataBytes));
        Assert.Contains("invalid offset", m);
        Assert.Contains(tensor, m);
        Assert.Contains(problem, m);
    }

    [Fact]
    public void Span_must_be_shape_times_dtype_size()
    {
        string m = Error(Craft("info.safetensors", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", 12));
        Assert.Contains("tensor info invalid", m);
        Assert.Contains("tensor 'w'", m);
        Assert.Contains("\"data_offsets\" [0, 12] span 12 bytes, but \"shape\" (2, 2) of \"dtype\" F32 needs 16", m);

        m = Error(Craft("bits.safetensors", """{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}""", 2));
        Assert.Contains("tensor 'w'", m);
        Assert.Contains("not a whole number of bytes", m);
    }

    [Theory]
    [InlineData("[4294967296,4294967296,0]")]
    [InlineData("[4611686018427387904]")]  // 2^62 elements fit, 2^62 × 32 bits do not
    public void Shapes_whose_size_overflows_64_bits_are_refused(string shape)
    {
        string m = Error(Craft("overflow.safetensors", $$$"""{"w":{"dtype":"F32","shape":{{{shape}}},"data_offsets":[0,0]}}""", 0));
        Assert.Contains("validation overflow", m);
        Assert.Contains("tensor 'w'", m);
        Assert.Contains("\"shape\"", m);
    }

    [Fact]
    public void Tensors_must_end_exactly_at_the_end_of_the_file()
    {
        const string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        string m = Error(Craft("trailing.safetensors", header, 12));
        Assert.Contains("metadata incomplete buffer", m);
        Assert.Contains("'a', ends at 8", m);
        Assert.Contains("4 bytes belong to no tensor", m);

        m = Error(Craft("short.safetensors", header, 6));
        Assert.Contains("metadata incomplete buffer", m);
        Assert.Contains("truncated", m);

        Assert.Contains("there are no tensors", Error(Craft("none.safetensors", "{}", 4)));
    }

    [Fact]
    public void A_valid_crafted_file_passes_every_check()
    {
        // The control for the cases above: the same shapes with correct offsets and length read fine.
        string path = Craft("ok.safetensors", Encoding.UTF8.GetBytes("""{"__metadata__":null,"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0,4294967296],"data_offsets":[8,8]}}  """),
            Floats(1, 2));
        using var st = new SafetensorsReader(path);
        Assert.Equal(new[] { 1f, 2f }, st.Get<float>("a").ToArray());
        Assert.Equal(new[] { "a", "z" }, st.Names);
        Assert.Contains("too large to load", Assert.Throws<InvalidDataException>(() => st.Get<float>("z")).Message);
    }
}
