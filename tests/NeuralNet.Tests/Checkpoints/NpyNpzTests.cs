using System.Text;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>
/// .npy / .npz against NumPy's own bytes (tools/golden/make_npz_fixture.py; Python is not needed to run these),
/// round trips, and every error path naming the file and the problem.
/// </summary>
public sealed class NpyNpzTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "npz-tests-" + Guid.NewGuid().ToString("N"));

    public NpyNpzTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<int[]> Shapes => new() { Array.Empty<int>(), new[] { 5 }, new[] { 0 }, new[] { 2, 3, 4 }, new[] { 2, 0, 3 } };

    // -0, subnormals, ±inf, NaNs with different payloads, extremes: the bits must survive unchanged.
    private static readonly float[] s_specialFloats =
    [
        -0.0f, 0.0f, float.Epsilon, -float.Epsilon, 1e-40f, float.PositiveInfinity, float.NegativeInfinity,
        float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_1234), BitConverter.Int32BitsToSingle(unchecked((int)0xFFA0_0001)),
        float.MaxValue, float.MinValue, 1.0f, -2.5f, 0.1f, 3.4028233e38f,
    ];

    private static readonly double[] s_specialDoubles =
    [
        -0.0, 0.0, double.Epsilon, -double.Epsilon, 1e-310, double.PositiveInfinity, double.NegativeInfinity,
        double.NaN, BitConverter.Int64BitsToDouble(0x7FF8_0000_DEAD_BEEF), BitConverter.Int64BitsToDouble(unchecked((long)0xFFF0_0000_0000_0001)),
        double.MaxValue, double.MinValue, 1.0, -2.5, 0.1, Math.PI,
    ];

    private static Tensor<T> Filled<T>(T[] specials, int[] dims) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(dims));
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = specials[i % specials.Length];
        return t;
    }

    // ---- round trips ----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_RoundTrips_BitExact(int[] dims)
    {
        var t = Filled(s_specialFloats, dims);
        var back = Npy.FromBytes<float>(Npy.ToBytes(t));
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ReadOnlySpan.ToArray().Select(BitConverter.SingleToInt32Bits), back.ReadOnlySpan.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float64_RoundTrips_BitExact(int[] dims)
    {
        var t = Filled(s_specialDoubles, dims);
        var back = Npy.FromBytes<double>(Npy.ToBytes(t));
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ReadOnlySpan.ToArray().Select(BitConverter.DoubleToInt64Bits), back.ReadOnlySpan.ToArray().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Large_Array_Spanning_Many_Chunks_RoundTrips()
    {
        var t = Tensor<double>.RandomNormal(new Rng(7), 0, 1, 300, 129);  // 309,600 bytes: several 64 KiB chunks
        var back = Npy.FromBytes<double>(Npy.ToBytes(t));
        Assert.True(t.ContentEquals(back));
        Assert.True(Npy.FromBytes<float>(Npy.ToBytes(t)).ReadOnlySpan.SequenceEqual(t.ToArray().Select(d => (float)d).ToArray()));
    }

    [Fact]
    public void Reading_Converts_Between_Float32_And_Float64()
    {
        var d = Tensor<double>.FromArray([0.1, -1e300, 1.0 / 3, double.NaN, -0.0], 5);
        var f = Npy.FromBytes<float>(Npy.ToBytes(d));
        Assert.Equal(new float[] { 0.1f, float.NegativeInfinity, 1.0f / 3, float.NaN, -0.0f }, f.ToArray());
        Assert.True(float.IsNegative(f[4]));

        var f2 = Tensor<float>.FromArray([0.1f, float.Epsilon, -3f], 3);
        Assert.Equal(new double[] { 0.1f, float.Epsilon, -3 }, Npy.FromBytes<double>(Npy.ToBytes(f2)).ToArray());
    }

    [Fact]
    public void Int32_Array_RoundTrips()
    {
        using var ms = new MemoryStream();
        Npy.WriteInt32(ms, [3, -1, int.MaxValue, int.MinValue, 0]);
        byte[] bytes = ms.ToArray();
        Assert.Contains("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", Encoding.ASCII.GetString(bytes));
        Assert.Equal([3, -1, int.MaxValue, int.MinValue, 0], Npy.ReadInt32(new MemoryStream(bytes), "labels.npy"));
        Assert.Equal([3.0, -1, int.MaxValue, int.MinValue, 0], Npy.FromBytes<double>(bytes).ToArray());
    }

    // ---- NumPy's bytes --------------------------------------------------------------------------

    [Fact]
    public void Header_Bytes_Equal_NumPys_Byte_For_Byte()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "numpy_written_headers.json")));
        int cases = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string label = c.GetProperty("label").GetString()!;
            string descr = c.GetProperty("descr").GetString()!;
            int[] dims = c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            byte[] expected = c.GetProperty("header_bytes").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();

            byte[] ours = descr switch
            {
                "<f4" => Npy.ToBytes(new Tensor<float>(new Shape(dims))),
                "<f8" => Npy.ToBytes(new Tensor<double>(new Shape(dims))),
                _ => throw new InvalidOperationException(descr),
            };
            int dataBytes = new Shape(dims).Length * (descr == "<f4" ? 4 : 8);
            byte[] header = ours[..^dataBytes];
            Assert.True(expected.AsSpan().SequenceEqual(header),
                $"{label}: NumPy {Encoding.Latin1.GetString(expected)} | ours {Encoding.Latin1.GetString(header)}");
            Assert.Equal(0, header.Length % 64);
            Assert.Equal((byte)'\n', header[^1]);
            cases++;
        }
        Assert.Equal(4, cases);
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 128, 784 })]
    [InlineData(new[] { 2147483647, 1 })]
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 })]
    public void Header_Is_A_Multiple_Of_64_And_Version_1_0(int[] dims)
    {
        byte[] h = Npy.HeaderBytes("<f4", dims);
        Assert.Equal(0, h.Length % 64);
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, h[..8]);
        Assert.Equal(h.Length - 10, BitConverter.ToUInt16(h, 8));
        Assert.Equal((byte)'\n', h[^1]);
        Assert.All(h[10..], b => Assert.InRange(b, (byte)0x0A, (byte)0x7E));
    }

    [Fact]
    public void NumPy_Written_Npz_Loads_With_Right_Shapes_And_Values()
    {
        using var npz = new NpzReader(NumPyFixturePath());
        Assert.Equal(["0.weight", "0.bias", "scalar", "big", "labels"], npz.Names);
        Assert.True(npz.Contains("0.bias"));
        Assert.False(npz.Contains("0.bias.npy"));

        var w = npz.Get<float>("0.weight");
        Assert.Equal(new Shape(3, 4), w.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i / 8f), w.ToArray());

        var b = npz.Get<float>("0.bias");
        Assert.Equal(new Shape(3), b.Shape);
        Assert.Equal([-1.5f, 0f, 2.25f], b.ToArray());

        var s = npz.Get<double>("scalar");
        Assert.Equal(0, s.Rank);
        Assert.Equal(3.141592653589793, s[0]);

        var big = npz.Get<double>("big");
        Assert.Equal(new Shape(2, 3, 5), big.Shape);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i / 7.0), big.ToArray());  // NumPy's i/7 is IEEE division too
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (float)(i / 7.0)), npz.Get<float>("big").ToArray());

        Assert.Equal([3, 1, 4, 1], npz.GetInt32("labels"));
        Assert.Equal([3.0, 1, 4, 1], npz.Get<double>("labels").ToArray());
        Assert.Null(npz.GetText("architecture.json"));
    }

    [Fact]
    public void Npz_RoundTrips_Arrays_Ints_And_Text_Stored_And_Compressed()
    {
        foreach (bool compressed in new[] { false, true })
        {
            var w = Filled(s_specialFloats, [4, 5]);
            var d = Filled(s_specialDoubles, []);
            using var ms = new MemoryStream();
            using (var writer = new NpzWriter(ms, compressed, leaveOpen: true))
            {
                writer.Add("0.weight", w);
                writer.Add("scalar", d);
                writer.AddInt32("step", [1234]);
                writer.AddText("architecture.json", "{\"layers\": [\"Linear(784→10)\"]}");
                Assert.Throws<ArgumentException>(() => writer.Add("scalar", d));
            }
            ms.Position = 0;
            using var npz = new NpzReader(ms, "mem.npz");
            Assert.Equal(["0.weight", "scalar", "step"], npz.Names);
            Assert.True(BitsEqual(w, npz.Get<float>("0.weight")));
            Assert.Equal(BitConverter.DoubleToInt64Bits(d[0]), BitConverter.DoubleToInt64Bits(npz.Get<double>("scalar")[0]));
            Assert.Equal([1234], npz.GetInt32("step"));
            Assert.Equal("{\"layers\": [\"Linear(784→10)\"]}", npz.GetText("architecture.json"));
        }

        static bool BitsEqual(Tensor<float> a, Tensor<float> b) =>
            a.Shape == b.Shape && a.ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Saving_Twice_Gives_Identical_Bytes_With_NumPys_1980_Timestamps()
    {
        string a = Path.Combine(_dir, "a.npz"), b = Path.Combine(_dir, "b.npz");
        var t = Tensor<float>.RandomUniform(new Rng(1), -1, 1, 3, 7);
        Npz.Save(a, w => { w.Add("x", t); w.AddText("architecture.json", "{}"); });
        Npz.Save(b, w => { w.Add("x", t); w.AddText("architecture.json", "{}"); });
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        using var zip = System.IO.Compression.ZipFile.OpenRead(a);
        Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));  // stored, like np.savez
    }

    // ---- reading other writers' headers ---------------------------------------------------------

    [Theory]
    [InlineData(1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}")]
    [InlineData(1, "{ \"descr\" : \"<f8\" ,\"fortran_order\":False,\"shape\":( 2 ,3 , ) , }   \n")]
    [InlineData(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }\n")]
    [InlineData(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n")]
    [InlineData(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n")]
    public void Reads_Any_Key_Order_Spacing_And_Versions_1_2_3(int major, string header)
    {
        double[] values = [1, 2, 3, 4, 5, 6];
        byte[] bytes = Build(major, header, values.SelectMany(BitConverter.GetBytes).ToArray());
        var t = Npy.FromBytes<double>(bytes);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(values, t.ToArray());
    }

    [Fact]
    public void Reads_Integer_And_Half_Dtypes()
    {
        byte[] i8 = Build(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", [.. BitConverter.GetBytes(-7L), .. BitConverter.GetBytes(0L), .. BitConverter.GetBytes(1L << 40)]);
        Assert.Equal([-7f, 0f, 1L << 40], Npy.FromBytes<float>(i8).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => Npy.ReadInt32(new MemoryStream(i8), "big_ints.npy"));
        Assert.Contains("big_ints.npy", ex.Message);
        Assert.Contains("does not fit in int32", ex.Message);

        byte[] u1 = Build(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", [0, 1, 128, 255]);
        Assert.Equal([0, 1, 128, 255], Npy.ReadInt32(new MemoryStream(u1), "u1"));
        Assert.Equal([0.0, 1, 128, 255], Npy.FromBytes<double>(u1).ToArray());
        Assert.Equal([0, 1, 128, 255], Npy.ReadInt32(new MemoryStream(Build(1, "{'descr': '<u1', 'fortran_order': False, 'shape': (4,), }", [0, 1, 128, 255])), "u1"));

        byte[] f2 = Build(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", [.. BitConverter.GetBytes((Half)1.5), .. BitConverter.GetBytes((Half)(-0.25))]);
        Assert.Equal([1.5f, -0.25f], Npy.FromBytes<float>(f2).ToArray());

        var floatArray = Assert.Throws<InvalidDataException>(() => Npy.ReadInt32(new MemoryStream(Npy.ToBytes(Tensor<float>.Zeros(2))), "w.npy"));
        Assert.Contains("expected an integer array, got dtype '<f4'", floatArray.Message);
    }

    [Fact]
    public void Fortran_Order_Is_Accepted_Only_Where_It_Means_The_Same_Bytes()
    {
        byte[] oneD = Build(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f)]);
        Assert.Equal([1f, 2f], Npy.FromBytes<float>(oneD).ToArray());

        byte[] twoD = Build(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]);
        var ex = Assert.Throws<InvalidDataException>(() => Npy.FromBytes<float>(twoD, "w.npy"));
        Assert.StartsWith("w.npy: ", ex.Message);
        Assert.Contains("fortran_order True is not supported", ex.Message);
    }

    // ---- errors ---------------------------------------------------------------------------------

    [Fact]
    public void Truncated_Data_Names_The_File_And_The_Byte_Counts()
    {
        byte[] full = Npy.ToBytes(Tensor<float>.Ones(3, 4));  // 128 header + 48 data
        byte[] cut = full[..(128 + 20)];

        var seekable = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(new MemoryStream(cut), "weights.npy"));
        Assert.Equal("weights.npy: truncated: header says shape (3, 4) of '<f4' = 48 data bytes but only 20 remain", seekable.Message);

        var streamed = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(new NonSeekable(cut), "weights.npy"));
        Assert.Equal(seekable.Message, streamed.Message);

        var header = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(new NonSeekable(full[..100]), "weights.npy"));
        Assert.Equal("weights.npy: truncated: header says 118 bytes but only 90 remain", header.Message);
    }

    [Fact]
    public void Bad_Magic_Gives_A_Clear_Error()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(new MemoryStream("PK\x03\x04 not npy"u8.ToArray()), "model.npy"));
        Assert.StartsWith("model.npy: not an .npy file (bad magic)", ex.Message);
        Assert.Contains("50 4B 03 04", ex.Message);

        var empty = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(new MemoryStream(), "empty.npy"));
        Assert.StartsWith("empty.npy: not an .npy file (bad magic)", empty.Message);
    }

    [Theory]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '>f4'")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<c8'")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "unsupported dtype")]
    [InlineData("{'descr': '<f4', 'shape': (1,), }", "bad header: missing key 'fortran_order'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "bad header: 'shape' must be")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", "bad header: unexpected text after the dict")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "bad header: unexpected 'Maybe'")]
    [InlineData("not a dict", "bad header: expected '{'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", "bad header: shape (65536, 65536) has more than")]
    public void Malformed_Headers_Name_The_File_And_The_Problem(string header, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Npy.FromBytes<float>(Build(1, header, new byte[4]), "layer.npy"));
        Assert.StartsWith("layer.npy: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Unsupported_Version_Is_Named()
    {
        byte[] bytes = Npy.ToBytes(Tensor<float>.Ones(1));
        bytes[6] = 4;
        var ex = Assert.Throws<InvalidDataException>(() => Npy.FromBytes<float>(bytes, "v4.npy"));
        Assert.Equal("v4.npy: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)", ex.Message);
    }

    [Fact]
    public void Truncated_Npz_Names_The_Path()
    {
        string good = NumPyFixturePath();
        byte[] bytes = File.ReadAllBytes(good);
        string cut = Path.Combine(_dir, "cut.npz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<InvalidDataException>(() => new NpzReader(cut));
        Assert.StartsWith(cut + ": is truncated", ex.Message);

        string notZip = Path.Combine(_dir, "notzip.npz");
        File.WriteAllText(notZip, "hello, this is not a zip archive at all; just some text.");
        var ex2 = Assert.Throws<InvalidDataException>(() => new NpzReader(notZip));
        Assert.StartsWith(notZip + ": is not a valid .npz (zip) file", ex2.Message);

        string npy = Path.Combine(_dir, "single.npz");
        File.WriteAllBytes(npy, Npy.ToBytes(Tensor<float>.Ones(2)));
        var ex3 = Assert.Throws<InvalidDataException>(() => new NpzReader(npy));
        Assert.Contains("is a single .npy array, not a valid .npz (zip) file", ex3.Message);
    }

    [Fact]
    public void Truncated_Entry_Inside_A_Valid_Zip_Names_Archive_And_Entry()
    {
        // A zip whose central directory is fine but whose .npy entry was written short.
        using var ms = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(ms, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using Stream s = zip.CreateEntry("w.npy").Open();
            s.Write(Npy.ToBytes(Tensor<float>.Ones(3, 4))[..150]);
        }
        ms.Position = 0;
        using var npz = new NpzReader(ms, "ckpt.npz");
        var ex = Assert.Throws<InvalidDataException>(() => npz.Get<float>("w"));
        Assert.Equal("ckpt.npz [w.npy]: truncated: header says shape (3, 4) of '<f4' = 48 data bytes but only 22 remain", ex.Message);
    }

    [Fact]
    public void Missing_File_Gives_FileNotFound_Naming_The_Path()
    {
        string path = Path.Combine(_dir, "no-such-folder", "model.npz");
        var ex = Assert.Throws<FileNotFoundException>(() => new NpzReader(path));
        Assert.Equal(path, ex.FileName);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Missing_Entry_Lists_The_Available_Names()
    {
        using var npz = new NpzReader(NumPyFixturePath());
        var ex = Assert.Throws<KeyNotFoundException>(() => npz.Get<float>("1.weight"));
        Assert.Contains("'1.weight'", ex.Message);
        Assert.Contains("available: '0.weight', '0.bias', 'scalar', 'big', 'labels'", ex.Message);
        Assert.Throws<KeyNotFoundException>(() => npz.GetInt32("nope"));
    }

    // ---- atomic save ----------------------------------------------------------------------------

    [Fact]
    public void Failed_Save_Leaves_The_Previous_File_Unchanged_And_No_Temp_File()
    {
        string path = Path.Combine(_dir, "model.npz");
        Npz.Save(path, w => w.Add("0.weight", Tensor<float>.Ones(2, 2)));
        byte[] before = File.ReadAllBytes(path);

        var boom = Assert.Throws<InvalidOperationException>(() => Npz.Save(path, w =>
        {
            w.Add("0.weight", Tensor<float>.Full(9f, 50, 50));
            throw new InvalidOperationException("disk full, say");
        }));
        Assert.Equal("disk full, say", boom.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.npz"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        using var npz = new NpzReader(path);
        Assert.Equal([1f, 1f, 1f, 1f], npz.Get<float>("0.weight").ToArray());
    }

    [Fact]
    public void Successful_Save_Replaces_The_File_And_Leaves_No_Temp_File()
    {
        string path = Path.Combine(_dir, "model.npz");
        Npz.Save(path, w => w.Add("a", Tensor<double>.Ones(1)));
        Npz.Save(path, w => { w.Add("b", Tensor<double>.Full(2, 3)); w.AddText("architecture.json", "{}"); });
        Assert.Equal(["model.npz"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        using var npz = new NpzReader(path);
        Assert.Equal(["b"], npz.Names);
        Assert.Equal("{}", npz.GetText("architecture.json"));
    }

    // ---- helpers --------------------------------------------------------------------------------

    // A .npy file with a hand-written header: magic, version, length, header padded to 64, data.
    private static byte[] Build(int major, string header, byte[] data)
    {
        int prefix = major == 1 ? 10 : 12;
        byte[] text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(header);
        int padded = (prefix + text.Length + 63) / 64 * 64 - prefix;
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        bytes.AddRange(major == 1 ? BitConverter.GetBytes((ushort)padded) : BitConverter.GetBytes((uint)padded));
        bytes.AddRange(text);
        bytes.AddRange(Enumerable.Repeat((byte)' ', padded - text.Length));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static readonly Lazy<string> s_numPyFixture = new(() =>
    {
        // The archive NumPy wrote travels as base64 in Golden/numpy_written_npz.json; rebuild the file once.
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "numpy_written_npz.json")));
        string path = Path.Combine(Directory.CreateTempSubdirectory("nn-npz-fixture-").FullName, "numpy_written.npz");
        File.WriteAllBytes(path, Convert.FromBase64String(doc.RootElement.GetProperty("base64").GetString()!));
        return path;
    });

    private static string NumPyFixturePath() => s_numPyFixture.Value;

    private sealed class NonSeekable(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));  // short reads too
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
