using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;

namespace NeuralNet.Data;

/// <summary>
/// Reads and writes IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
/// a big-endian header <c>magic, dim₀, …, dimₖ₋₁</c> (int32 each), then the unsigned bytes in row-major order.
/// Images: magic 0x00000803, dims (count, rows, cols). Labels: magic 0x00000801, dims (count).
/// Files may be gzip-compressed; that is detected from the content (1f 8b), not from the name.
/// </summary>
/// <remarks>
/// Every malformed file is an <see cref="InvalidDataException"/> that names the file and the problem:
/// wrong magic, non-positive or oversized dimensions, truncated data, bytes after the declared data, or a
/// corrupt gzip stream. A file is never read short in silence.
/// </remarks>
public static class Idx
{
    /// <summary>Magic number of an image file: type 0x08 (unsigned byte), 3 dimensions.</summary>
    public const int ImageMagic = 0x00000803;

    /// <summary>Magic number of a label file: type 0x08 (unsigned byte), 1 dimension.</summary>
    public const int LabelMagic = 0x00000801;

    private const int ImageHeaderSize = 16;  // magic, count, rows, cols
    private const int LabelHeaderSize = 8;   // magic, count
    private const int MaxTrailingScan = 1 << 20;

    /// <summary>Reads an IDX image file (raw or gzip): (count, rows, cols) and count·rows·cols pixel bytes.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX image file; the message says why.</exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path, out bool gzip);
        Span<byte> header = stackalloc byte[ImageHeaderSize];
        int got = ReadFull(file, header, path);
        CheckMagic(path, header[..got], ImageMagic, "image");
        if (got < ImageHeaderSize)
            ThrowInvalid($"{path}: truncated: an IDX image header needs {ImageHeaderSize} bytes but the file holds only {got}{Decompressed(gzip)}.");
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count <= 0 || rows <= 0 || cols <= 0)
            ThrowInvalid($"{path}: invalid IDX image dimensions {count} images of {rows}×{cols}; every dimension must be positive.");
        // NOTE: three int32 extents can overflow 64 bits (2³¹·2³¹·2³¹); Int128 cannot.
        Int128 size = (Int128)count * rows * cols;
        string declared = $"header declares {count} images of {rows}×{cols} ({size} bytes)";
        if (size > Array.MaxLength)
            ThrowInvalid($"{path}: {declared}, more than one array can hold; not a valid IDX image file.");
        byte[] pixels = ReadPayload(file, gzip, ImageHeaderSize, (int)size, path, declared);
        return new IdxImages(count, rows, cols, pixels);
    }

    /// <summary>Reads an IDX label file (raw or gzip): one unsigned byte per sample.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX label file; the message says why.</exception>
    public static byte[] ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path, out bool gzip);
        Span<byte> header = stackalloc byte[LabelHeaderSize];
        int got = ReadFull(file, header, path);
        CheckMagic(path, header[..got], LabelMagic, "label");
        if (got < LabelHeaderSize)
            ThrowInvalid($"{path}: truncated: an IDX label header needs {LabelHeaderSize} bytes but the file holds only {got}{Decompressed(gzip)}.");
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count <= 0 || count > Array.MaxLength)
            ThrowInvalid($"{path}: invalid IDX label count {count}; it must be positive.");
        return ReadPayload(file, gzip, LabelHeaderSize, count, path, $"header declares {count} labels ({count} bytes)");
    }

    /// <summary>
    /// Writes <paramref name="count"/> images of <paramref name="rows"/>×<paramref name="cols"/> bytes as an IDX
    /// image file, gzip-compressed when <paramref name="gzip"/> (the name is not changed to match).
    /// </summary>
    public static void WriteImages(string path, byte[] pixels, int count, int rows, int cols, bool gzip)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(pixels);
        if (count <= 0 || rows <= 0 || cols <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), $"Idx.WriteImages: dimensions {count} images of {rows}×{cols} must be positive.");
        if ((long)count * rows * cols != pixels.Length)
            throw new ArgumentException($"Idx.WriteImages: {pixels.Length} pixels cannot fill {count} images of {rows}×{cols} ({(long)count * rows * cols} bytes).", nameof(pixels));
        Span<byte> header = stackalloc byte[ImageHeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, ImageMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], count);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], cols);
        Write(path, header, pixels, gzip);
    }

    /// <summary>Writes one byte per sample as an IDX label file, gzip-compressed when <paramref name="gzip"/>.</summary>
    public static void WriteLabels(string path, byte[] labels, bool gzip)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length == 0) throw new ArgumentException("Idx.WriteLabels: an IDX label file needs at least one label.", nameof(labels));
        Span<byte> header = stackalloc byte[LabelHeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Length);
        Write(path, header, labels, gzip);
    }

    /// <summary>True when the file starts with the gzip magic bytes 1f 8b.</summary>
    public static bool IsGzip(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return IsGzip(fs);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading its IDX bytes: through a <see cref="GZipStream"/> when the file
    /// starts with 1f 8b, as is otherwise. Reads from a corrupt gzip stream throw <see cref="InvalidDataException"/>.
    /// </summary>
    public static Stream OpenRead(string path, out bool gzip)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            gzip = IsGzip(fs);
            return gzip ? new GZipStream(fs, CompressionMode.Decompress, leaveOpen: false) : fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private static bool IsGzip(FileStream fs)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = fs.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        fs.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static void Write(string path, ReadOnlySpan<byte> header, byte[] data, bool gzip)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using Stream s = gzip ? new GZipStream(fs, CompressionLevel.Optimal, leaveOpen: true) : fs;
        s.Write(header);
        s.Write(data);
    }

    private static void CheckMagic(string path, ReadOnlySpan<byte> header, int expected, string kind)
    {
        if (header.Length == 0) ThrowInvalid($"{path}: empty file; not an IDX {kind} file.");
        if (header.Length < 4) ThrowInvalid($"{path}: truncated: {header.Length} bytes, too short for an IDX {kind} file's 4-byte magic.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic == expected) return;
        string hint = magic switch
        {
            ImageMagic => "; it looks like an IDX image file",
            LabelMagic => "; it looks like an IDX label file",
            _ => "",
        };
        ThrowInvalid($"{path}: not an IDX {kind} file (magic 0x{magic:X8}, expected 0x{expected:X8}){hint}.");
    }

    /// <summary>
    /// Reads exactly <paramref name="size"/> bytes of data after the header, then checks that nothing follows.
    /// A raw file's length is checked before allocating; a gzip stream's buffer grows as data arrives, so a
    /// header that lies about the size cannot make us allocate gigabytes for a small file.
    /// </summary>
    private static byte[] ReadPayload(Stream s, bool gzip, int headerSize, int size, string path, string declared)
    {
        if (!gzip)
        {
            long held = s.Length - headerSize;
            if (held < size) ThrowTruncated(path, declared, held, headerSize, gzip);
            if (held > size) ThrowTrailing(path, declared, held - size, exact: true, gzip);
        }
        byte[] data = new byte[gzip ? Math.Min(size, 1 << 20) : size];
        int filled = 0;
        while (filled < size)
        {
            if (filled == data.Length) Array.Resize(ref data, (int)Math.Min(size, 2L * data.Length));
            int n = Read(s, data.AsSpan(filled), path);
            if (n == 0) ThrowTruncated(path, declared, filled, headerSize, gzip);
            filled += n;
        }
        // Anything after the declared data means the header and the file disagree.
        Span<byte> scratch = stackalloc byte[4096];
        long extra = 0;
        int m;
        while (extra < MaxTrailingScan && (m = Read(s, scratch, path)) > 0) extra += m;
        if (extra > 0) ThrowTrailing(path, declared, extra, exact: extra < MaxTrailingScan, gzip);
        return data;
    }

    private static int ReadFull(Stream s, Span<byte> buffer, string path)
    {
        int filled = 0, n;
        while (filled < buffer.Length && (n = Read(s, buffer[filled..], path)) > 0) filled += n;
        return filled;
    }

    private static int Read(Stream s, Span<byte> buffer, string path)
    {
        try
        {
            return s.Read(buffer);
        }
        catch (InvalidDataException ex) when (s is GZipStream)
        {
            throw new InvalidDataException($"{path}: corrupt gzip stream ({ex.Message})", ex);
        }
    }

    private static string Decompressed(bool gzip) => gzip ? " (decompressed)" : "";

    [DoesNotReturn]
    private static void ThrowTruncated(string path, string declared, long held, int headerSize, bool gzip) =>
        throw new InvalidDataException($"{path}: truncated: {declared} but the file holds only {held} bytes after the {headerSize}-byte header{Decompressed(gzip)}.");

    [DoesNotReturn]
    private static void ThrowTrailing(string path, string declared, long extra, bool exact, bool gzip) =>
        throw new InvalidDataException($"{path}: {(exact ? "" : "at least ")}{extra} unexpected bytes after the data{Decompressed(gzip)}: {declared}; the header and the file length disagree.");

    [DoesNotReturn]
    private static void ThrowInvalid(string message) => throw new InvalidDataException(message);
}
