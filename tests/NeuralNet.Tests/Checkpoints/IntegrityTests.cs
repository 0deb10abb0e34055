using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>A checkpoint whose bytes changed after it was written is refused: CRC-32 per .npz entry, SHA-256 of the safetensors data.</summary>
public sealed class IntegrityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // A Linear whose weights hold a recognizable run of floats, so a test can find them in the file's bytes.
    internal static Sequential<float> Marked()
    {
        var model = new Sequential<float>(new Linear<float>(6, 3, rng: new Rng(1)));
        var w = ((Linear<float>)model.Modules[0]).Weight.Value.Span;
        for (int i = 0; i < w.Length; i++) w[i] = 1000.5f + i;
        return model;
    }

    // Flips one bit in the middle of the marked weights.
    internal static void FlipWeightBit(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        byte[] marker = new byte[16];
        for (int i = 0; i < 4; i++) BitConverter.TryWriteBytes(marker.AsSpan(4 * i), 1000.5f + i);
        int at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at >= 0, "the marked weights are not in the file");
        bytes[at + 9] ^= 0x04;
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void Crc32_matches_the_zip_check_value() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Npz_with_one_flipped_bit_in_the_weights_is_refused_naming_file_and_entry()
    {
        string path = _dir["m.npz"];
        Checkpoint.Save(path, Marked());
        Assert.NotNull(Checkpoint.Load<float>(path));  // intact, it loads

        FlipWeightBit(path);
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("0.weight.npy", ex.Message);
        Assert.Contains("Bad CRC-32", ex.Message);
        using var npz = new NpzReader(path);
        Assert.Throws<InvalidDataException>(() => npz.GetBytes("0.weight.npy"));
        Assert.Equal(3, npz.Get<float>("0.bias").Length);  // the other entries still read
    }

    [Fact]
    public void Safetensors_records_the_sha256_of_its_data_and_refuses_a_flipped_bit()
    {
        string path = _dir["m.safetensors"];
        Checkpoint.SaveSafetensors(path, Marked());
        using (var st = new SafetensorsReader(path))
        {
            string sum = st.Metadata[Safetensors.Sha256Key];
            Assert.Equal(64, sum.Length);
            Assert.All(sum, c => Assert.True(char.IsAsciiHexDigit(c)));
        }
        Assert.NotNull(Checkpoint.Load<float>(path));

        FlipWeightBit(path);
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(path));
        Assert.StartsWith(path, ex.Message);
        Assert.Contains("SHA-256 mismatch", ex.Message);
    }

    [Fact]
    public void Safetensors_without_a_checksum_still_loads_and_a_malformed_one_is_refused()
    {
        var tensors = new (string, Tensor<float>)[] { ("w", Tensor<float>.FromArray([1f, 2f, 3f], 3)) };
        string plain = _dir["plain.safetensors"];
        Safetensors.Save(plain, tensors, checksum: false);
        using (var st = new SafetensorsReader(plain))
        {
            Assert.False(st.Metadata.ContainsKey(Safetensors.Sha256Key));
            Assert.Equal(new[] { 1f, 2f, 3f }, st.Get<float>("w").ToArray());
        }

        string odd = _dir["odd.safetensors"];
        Safetensors.Save(odd, tensors, new Dictionary<string, string> { [Safetensors.Sha256Key] = "abc" }, checksum: false);
        var ex = Assert.Throws<InvalidDataException>(() => new SafetensorsReader(odd));
        Assert.StartsWith(odd, ex.Message);
        Assert.Contains("64 hex digits", ex.Message);
    }
}
