using System.Buffers.Binary;
using System.IO.Compression;
using NeuralNet.Data;

namespace NeuralNet.Tests.Data;

public class IdxTests
{
    private static byte[] Pixels(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 % 256)).ToArray();

    private static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    private static byte[] Header(params int[] ints)
    {
        var h = new byte[4 * ints.Length];
        for (int i = 0; i < ints.Length; i++) BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4 * i), ints[i]);
        return h;
    }

    private static InvalidDataException ReadImagesFails(string path) => Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_round_trip(bool gzip)
    {
        using var dir = new TempDir();
        byte[] pixels = Pixels(3 * 4 * 5);
        byte[] labels = [0, 9, 255];
        Idx.WriteImages(dir["img"], pixels, 3, 4, 5, gzip);
        Idx.WriteLabels(dir["lbl"], labels, gzip);

        IdxImages images = Idx.ReadImages(dir["img"]);
        Assert.Equal((3, 4, 5), (images.Count, images.Rows, images.Cols));
        Assert.Equal(pixels, images.Pixels);
        Assert.Equal(pixels.AsSpan(20, 20).ToArray(), images.Image(1).ToArray());
        Assert.Equal(labels, Idx.ReadLabels(dir["lbl"]));
        Assert.Equal(gzip, Idx.IsGzip(dir["img"]));
    }

    [Fact]
    public void Raw_file_layout_is_the_big_endian_header_then_the_bytes()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir["img"], [1, 2, 3, 4, 5, 6], 1, 2, 3, gzip: false);
        Assert.Equal([.. Header(0x803, 1, 2, 3), 1, 2, 3, 4, 5, 6], File.ReadAllBytes(dir["img"]));
        Idx.WriteLabels(dir["lbl"], [7, 8], gzip: false);
        Assert.Equal([.. Header(0x801, 2), 7, 8], File.ReadAllBytes(dir["lbl"]));
    }

    [Fact]
    public void Compression_is_detected_from_the_content_not_the_name()
    {
        using var dir = new TempDir();
        Idx.WriteLabels(dir["raw.gz"], [1, 2, 3], gzip: false);
        Idx.WriteLabels(dir["compressed"], [4, 5], gzip: true);
        Assert.Equal([1, 2, 3], Idx.ReadLabels(dir["raw.gz"]));
        Assert.Equal([4, 5], Idx.ReadLabels(dir["compressed"]));
    }

    [Fact]
    public void Wrong_magic_names_the_file_and_both_magics()
    {
        using var dir = new TempDir();
        Idx.WriteLabels(dir["train-labels-idx1-ubyte"], [1, 2], gzip: true);
        var ex = ReadImagesFails(dir["train-labels-idx1-ubyte"]);
        Assert.StartsWith($"{dir["train-labels-idx1-ubyte"]}: not an IDX image file (magic 0x00000801, expected 0x00000803)", ex.Message);

        Idx.WriteImages(dir["img"], Pixels(4), 1, 2, 2, gzip: false);
        var ex2 = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(dir["img"]));
        Assert.Contains($"{dir["img"]}: not an IDX label file (magic 0x00000803, expected 0x00000801)", ex2.Message);

        File.WriteAllText(dir["page.html"], "<html>Not found</html>");
        Assert.Contains("not an IDX image file (magic 0x3C68746D", ReadImagesFails(dir["page.html"]).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_says_what_the_header_declares_and_what_the_file_holds(bool gzip)
    {
        using var dir = new TempDir();
        byte[] full = [.. Header(0x803, 3, 4, 5), .. Pixels(60)];
        File.WriteAllBytes(dir["img"], gzip ? Gzip(full[..^7]) : full[..^7]);
        var ex = ReadImagesFails(dir["img"]);
        Assert.StartsWith($"{dir["img"]}: truncated: header declares 3 images of 4×5 (60 bytes) but the file holds only 53 bytes", ex.Message);
    }

    [Fact]
    public void Truncated_header_and_empty_file_are_errors()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["short"], Header(0x803, 3)[..7]);
        Assert.Contains("truncated: an IDX image header needs 16 bytes but the file holds only 7", ReadImagesFails(dir["short"]).Message);
        File.WriteAllBytes(dir["tiny"], [0, 0]);
        Assert.Contains("truncated", ReadImagesFails(dir["tiny"]).Message);
        File.WriteAllBytes(dir["empty"], []);
        Assert.Contains($"{dir["empty"]}: empty file", ReadImagesFails(dir["empty"]).Message);
        File.WriteAllBytes(dir["lbl"], Header(0x801));
        Assert.Contains("label header needs 8 bytes", Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(dir["lbl"])).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Trailing_bytes_are_an_error(bool gzip)
    {
        using var dir = new TempDir();
        byte[] data = [.. Header(0x801, 2), 1, 2, 3, 4, 5];
        File.WriteAllBytes(dir["lbl"], gzip ? Gzip(data) : data);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(dir["lbl"]));
        Assert.StartsWith($"{dir["lbl"]}: 3 unexpected bytes after the data", ex.Message);
        Assert.Contains("header declares 2 labels", ex.Message);
    }

    [Theory]
    [InlineData(0, 28, 28)]
    [InlineData(-1, 28, 28)]
    [InlineData(10, 0, 28)]
    [InlineData(10, 28, -5)]
    public void Non_positive_dimensions_are_rejected(int count, int rows, int cols)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["img"], [.. Header(0x803, count, rows, cols), 1, 2, 3]);
        Assert.Contains($"{dir["img"]}: invalid IDX image dimensions {count} images of {rows}×{cols}", ReadImagesFails(dir["img"]).Message);
        File.WriteAllBytes(dir["lbl"], [.. Header(0x801, count <= 0 ? count : -rows), 1]);
        Assert.Contains("invalid IDX label count", Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(dir["lbl"])).Message);
    }

    [Fact]
    public void Absurd_dimensions_are_rejected_without_allocating_them()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["huge"], [.. Header(0x803, int.MaxValue, 28, 28), 1, 2, 3]);
        Assert.Contains("more than one array can hold", ReadImagesFails(dir["huge"]).Message);

        // 1 GB declared in a tiny gzip file: the buffer grows with the data, so this is a quick "truncated".
        File.WriteAllBytes(dir["big.gz"], Gzip([.. Header(0x803, 1_000_000, 32, 32), .. Pixels(100)]));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated: header declares 1000000 images of 32×32 (1024000000 bytes) but the file holds only 100 bytes", ReadImagesFails(dir["big.gz"]).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "reading a lying header allocated more than 16 MB");
    }

    [Fact]
    public void Corrupt_gzip_stream_names_the_file()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var pixels = new byte[64 * 64];
        rng.NextBytes(pixels);
        Idx.WriteImages(dir["img.gz"], pixels, 1, 64, 64, gzip: true);
        byte[] gz = File.ReadAllBytes(dir["img.gz"]);
        for (int i = gz.Length / 2; i < gz.Length / 2 + 16; i++) gz[i] ^= 0x5A;
        File.WriteAllBytes(dir["img.gz"], gz);
        var ex = ReadImagesFails(dir["img.gz"]);
        Assert.StartsWith($"{dir["img.gz"]}: corrupt gzip stream", ex.Message);

        // A gzip header followed by garbage.
        File.WriteAllBytes(dir["junk.gz"], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        Assert.StartsWith($"{dir["junk.gz"]}: corrupt gzip stream", Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(dir["junk.gz"])).Message);
    }

    [Fact]
    public void Gzip_stream_cut_short_is_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var pixels = new byte[64 * 64];
        new Random(2).NextBytes(pixels);
        Idx.WriteImages(dir["img.gz"], pixels, 1, 64, 64, gzip: true);
        byte[] gz = File.ReadAllBytes(dir["img.gz"]);
        File.WriteAllBytes(dir["img.gz"], gz[..(gz.Length / 2)]);
        var ex = ReadImagesFails(dir["img.gz"]);
        Assert.StartsWith($"{dir["img.gz"]}: ", ex.Message);
        Assert.True(ex.Message.Contains("truncated") || ex.Message.Contains("corrupt gzip stream"), ex.Message);
    }

    [Fact]
    public void Writers_reject_inconsistent_sizes()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => Idx.WriteImages(dir["img"], new byte[10], 1, 3, 3, gzip: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Idx.WriteImages(dir["img"], [], 0, 3, 3, gzip: false));
        Assert.Throws<ArgumentException>(() => Idx.WriteLabels(dir["lbl"], [], gzip: false));
    }

    [Fact]
    public void Image_and_label_count_mismatch_names_both_files_and_counts()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true, trainCount: 20, testCount: 10);
        Idx.WriteLabels(dir["train-labels-idx1-ubyte.gz"], SyntheticMnist.Labels(19), gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir.Path, train: true));
        Assert.Contains($"{dir["train-images-idx3-ubyte.gz"]} holds 20 images but {dir["train-labels-idx1-ubyte.gz"]} holds 19 labels", ex.Message);
    }

    [Fact]
    public void Label_outside_0_to_9_names_the_file_and_sample()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: false, trainCount: 20, testCount: 3);
        Idx.WriteLabels(dir["t10k-labels-idx1-ubyte"], [1, 10, 2], gzip: false);
        var ex = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir.Path, train: false));
        Assert.Contains($"{dir["t10k-labels-idx1-ubyte"]}: label 10 of sample 1 is outside [0, 10)", ex.Message);
    }

    [Fact]
    public void Missing_file_names_the_folder_and_both_names()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true);
        File.Delete(dir["t10k-images-idx3-ubyte.gz"]);
        var ex = Assert.Throws<FileNotFoundException>(() => Mnist.Load(dir.Path, train: false));
        Assert.Contains($"neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz is in {dir.Path}", ex.Message);
    }
}
