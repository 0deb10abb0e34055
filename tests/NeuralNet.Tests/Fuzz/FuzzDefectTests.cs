using System.Buffers.Binary;
using System.Text;
using NeuralNet.Checkpoints;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Fuzz;

/// <summary>Each defect the reader fuzzing found, as the smallest input that showed it: now an InvalidDataException naming the file.</summary>
public sealed class FuzzDefectTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Idx_dimensions_whose_product_overflows_64_bits_are_refused_before_allocating()
    {
        // 2³¹−1 images of (2³¹−1)×(2³¹−1): the product wrapped to a negative 64-bit size, then new byte[negative].
        byte[] header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, NeuralNet.Data.Idx.ImageMagic);
        for (int i = 1; i < 4; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 * i), int.MaxValue);
        string path = _dir["huge-idx3-ubyte"];
        File.WriteAllBytes(path, header);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => NeuralNet.Data.Idx.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.StartsWith(path, e.Message);
        Assert.Contains("more than one array can hold", e.Message);
    }

    [Fact]
    public void Npz_whose_end_record_miscounts_the_entries_names_the_file()
    {
        var ms = new MemoryStream();
        using (var w = new NpzWriter(ms, leaveOpen: true)) w.Add("w", Tensor<float>.FromArray([1f, 2f], 2));
        byte[] bytes = ms.ToArray();
        int eocd = bytes.AsSpan().LastIndexOf("PK\x05\x06"u8);
        bytes[eocd + 10] = 2;  // total entries: 2, but the central directory holds 1
        var e = Assert.Throws<InvalidDataException>(() => new NpzReader(new MemoryStream(bytes), "miscounted.npz"));
        Assert.StartsWith("miscounted.npz: ", e.Message);
    }

    [Theory]
    [InlineData("""{"type":"Sequential","type":"Sequential","layers":[]}""", "Duplicate")]
    [InlineData("""{"type":5,"layers":[]}""", "no \"type\" string")]
    [InlineData("""{"model":5}""", "must be an object")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"Linear","in_features":2147483647,"out_features":2147483647}]}""", "more than one tensor can hold")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"BatchNorm1d","num_features":2147483647}]}""", "more than one tensor can hold")]
    public void Architecture_that_used_to_throw_a_bcl_exception_is_invalid_data(string json, string expected)
    {
        var e = Record.Exception(() => Architecture.Parse<float>(json));
        Assert.IsType<InvalidDataException>(e);
        Assert.StartsWith("Architecture:", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Architecture_with_an_element_budget_refuses_a_large_model_before_allocating()
    {
        string json = """{"type":"Sequential","layers":[{"type":"Linear","in_features":40000,"out_features":40000}]}""";
        var doc = Architecture.ParseDocument(json);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Architecture.BuildFromDocument<float>(doc, maxElements: 1 << 20));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("layer 0", e.Message);
        Assert.Equal(4 * 3 + 3, Architecture.BuildFromDocument<float>(Architecture.ParseDocument(Encoding.UTF8.GetString(
            """{"type":"Sequential","layers":[{"type":"Linear","in_features":4,"out_features":3}]}"""u8)), maxElements: 15).Parameters().Sum(p => p.Value.Length));
    }

    [Theory]
    [InlineData("npz")]
    [InlineData("safetensors")]
    public void Checkpoint_whose_architecture_asks_for_more_than_its_weights_is_refused_before_allocating(string format)
    {
        var model = new NeuralNet.Modules.Sequential<float>(new NeuralNet.Layers.Linear<float>(784, 10, rng: new Rng(1)));
        string path = _dir["m." + format];
        if (format == "npz") Checkpoint.Save(path, model);
        else Checkpoint.SaveSafetensors(path, model);
        Assert.Equal(7850, Checkpoint.Load<float>(path).Parameters().Sum(p => p.Value.Length));  // the weights' own size loads

        // The same weights under a description of Linear(784, 100000): 78 million elements, 313 MB, from a 32 KB file.
        if (format == "npz")
        {
            using var npz = new NpzReader(path);
            string arch = npz.GetText("architecture.json")!;
            var entries = npz.EntryNames.Where(n => n != "architecture.json").Select(n => (n, npz.GetBytes(n))).ToList();
            NeuralNet.Checkpoints.Npz.Save(_dir["big.npz"], w =>
            {
                foreach (var (n, b) in entries) w.AddBytes(n, b);
                w.AddText("architecture.json", arch.Replace("\"out_features\": 10", "\"out_features\": 100000"));
            });
            path = _dir["big.npz"];
        }
        else
        {
            using var st = new SafetensorsReader(path);
            var tensors = st.Names.Select(n => (n, st.Get<float>(n))).ToList();
            var meta = st.Metadata.Where(kv => kv.Key != Safetensors.Sha256Key).ToDictionary(kv => kv.Key, kv => kv.Value.Replace("\"out_features\":10", "\"out_features\":100000"));
            NeuralNet.Checkpoints.Safetensors.Save(_dir["big.safetensors"], tensors, meta);
            path = _dir["big.safetensors"];
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated before refusing");
        Assert.StartsWith(path, e.Message);
        Assert.Contains("Linear", e.Message);
    }
}
