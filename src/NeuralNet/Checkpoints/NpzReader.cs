using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// Reads an .npz archive (<c>np.savez</c> / <c>np.savez_compressed</c>, or <see cref="NpzWriter"/>): arrays by
/// name without the ".npy" suffix, converted to the requested element type, plus raw text entries.
/// Not thread-safe: one reader per thread.
/// </summary>
/// <example><code>
/// using var npz = new NpzReader("model.npz");
/// Tensor&lt;float&gt; w = npz.Get&lt;float&gt;("0.weight");
/// int[] labels = npz.GetInt32("labels");   // '&lt;i8' from NumPy is fine
/// </code></example>
public sealed class NpzReader : IDisposable
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ZipArchive _zip;
    private readonly string _name;
    private readonly string[] _names;

    /// <summary>Opens the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip archive or is truncated.</exception>
    public NpzReader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"NPZ file not found: '{path}'.", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            _zip = OpenZip(stream, path, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        _name = path;
        _names = ArrayNames(_zip);
    }

    /// <summary>Reads an archive from <paramref name="stream"/>; <paramref name="name"/> labels error messages.</summary>
    public NpzReader(Stream stream, string name = "npz stream", bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        _zip = OpenZip(stream, name, leaveOpen);
        _name = name;
        _names = ArrayNames(_zip);
    }

    /// <summary>The array names (entries ending in ".npy", suffix removed), in archive order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>True if the archive has an entry <c><paramref name="name"/>.npy</c>.</summary>
    public bool Contains(string name) => _zip.GetEntry(name + ".npy") is not null;

    /// <summary>The array <paramref name="name"/>, converted to <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such array; the message lists the available names.</exception>
    /// <exception cref="InvalidDataException">The entry is not a valid .npy array.</exception>
    public Tensor<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ZipArchiveEntry entry = Find(name);
        byte[] bytes = ReadEntry(entry);
        using var s = new MemoryStream(bytes, writable: false);
        return Npy.Read<T>(s, Label(entry), bytes.Length);
    }

    /// <summary>The integer array <paramref name="name"/> ('&lt;i4', '&lt;i8', …) as a flat int[]; values must fit in int32.</summary>
    public int[] GetInt32(string name)
    {
        ZipArchiveEntry entry = Find(name);
        byte[] bytes = ReadEntry(entry);
        using var s = new MemoryStream(bytes, writable: false);
        return Npy.ReadInt32(s, Label(entry), bytes.Length);
    }

    /// <summary>
    /// An upper bound on the bytes of array data the archive can hold, from its central directory: each ".npy" entry's
    /// recorded size, but no more than deflate can expand its compressed bytes to (1032:1). A model described beside the
    /// arrays cannot need more elements than this.
    /// </summary>
    internal long ArrayBytesBound
    {
        get
        {
            long total = 0;
            foreach (ZipArchiveEntry e in _zip.Entries)
            {
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                long bound = Math.Min(e.Length, e.CompressedLength > long.MaxValue / MaxDeflateRatio ? long.MaxValue : e.CompressedLength * MaxDeflateRatio);
                total = bound > long.MaxValue - total ? long.MaxValue : total + Math.Max(0, bound);
            }
            return total;
        }
    }

    // Deflate's largest expansion: one 258-byte match per 2 bits, about 1032 output bytes per input byte.
    private const long MaxDeflateRatio = 1032;

    /// <summary>Every entry's full name (arrays with their ".npy" suffix, text entries as they are), in archive order.</summary>
    public IReadOnlyList<string> EntryNames => _zip.Entries.Select(e => e.FullName).ToArray();

    /// <summary>The raw bytes of entry <paramref name="entryName"/> (full entry name), as stored in the archive once unzipped.</summary>
    /// <exception cref="KeyNotFoundException">No such entry.</exception>
    public byte[] GetBytes(string entryName)
    {
        ArgumentNullException.ThrowIfNull(entryName);
        ZipArchiveEntry entry = _zip.GetEntry(entryName)
            ?? throw new KeyNotFoundException($"{_name}: no entry '{entryName}'; entries: {string.Join(", ", EntryNames.Select(n => $"'{n}'"))}");
        return ReadEntry(entry);
    }

    /// <summary>The UTF-8 text of entry <paramref name="entryName"/> (full entry name, e.g. "architecture.json"), or null if absent.</summary>
    public string? GetText(string entryName)
    {
        ArgumentNullException.ThrowIfNull(entryName);
        ZipArchiveEntry? entry = _zip.GetEntry(entryName);
        if (entry is null) return null;
        byte[] bytes = ReadEntry(entry);
        try
        {
            ReadOnlySpan<byte> text = bytes;
            return s_strictUtf8.GetString(text.StartsWith(Utf8Bom) ? text[3..] : text);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{Label(entry)}: not valid UTF-8 text (bad byte at offset {e.Index})", e);
        }
    }

    /// <summary>Closes the archive (and the file or stream, unless it was opened with leaveOpen).</summary>
    public void Dispose() => _zip.Dispose();

    private string Label(ZipArchiveEntry entry) => $"{_name} [{entry.FullName}]";

    /// <summary>
    /// The entry's bytes, checked as NumPy checks them: exactly the size the archive records, and the CRC-32 it records
    /// ("Bad CRC-32" in NumPy). The buffer grows as data arrives, so a size field that lies cannot make us allocate
    /// more than the data itself.
    /// </summary>
    private byte[] ReadEntry(ZipArchiveEntry entry)
    {
        string label = Label(entry);
        long declared = entry.Length;
        if (declared < 0 || declared > Array.MaxLength)
            throw new InvalidDataException($"{label}: the archive records an uncompressed size of {declared} bytes, more than one array can hold");
        byte[] data = new byte[(int)Math.Min(declared, 1 << 20)];
        int filled = 0;
        uint crc;
        try
        {
            using Stream s = entry.Open();
            while (true)
            {
                if (filled == data.Length)
                {
                    // One byte past the declared size tells "longer than recorded" from "exactly as recorded".
                    if (filled == declared)
                    {
                        if (s.ReadByte() >= 0)
                            throw new InvalidDataException($"{label}: the entry holds more than the {declared} bytes the archive records; the file is damaged");
                        break;
                    }
                    Array.Resize(ref data, (int)Math.Min(declared, 2L * data.Length));
                }
                int n = s.Read(data, filled, data.Length - filled);
                if (n == 0) break;
                filled += n;
            }
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(label, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{label}: corrupt zip entry: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new InvalidDataException($"{label}: corrupt zip entry: {ex.Message}", ex);
        }
        if (filled != declared)
            throw new InvalidDataException($"{label}: the entry holds {filled} bytes but the archive records {declared}; the file is truncated or damaged");
        crc = Crc32.Compute(data.AsSpan(0, filled));
        if (crc != entry.Crc32)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{label}: Bad CRC-32: the entry's bytes give 0x{crc:X8} but the archive records 0x{entry.Crc32:X8}; the file was changed or damaged after it was written"));
        return data;
    }

    private ZipArchiveEntry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _zip.GetEntry(name + ".npy") ?? throw new KeyNotFoundException(
            $"{_name}: no array '{name}' (entry '{name}.npy'); available: " +
            (_names.Length == 0 ? "(none)" : string.Join(", ", _names.Select(n => $"'{n}'"))));
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static string[] ArrayNames(ZipArchive zip) =>
        zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                   .Select(e => e.FullName[..^4])
                   .ToArray();

    // ZipArchive's own messages ("End of Central Directory record could not be found") don't say which file,
    // nor that a cut-short download is the likely cause; the first bytes tell truncated from not-a-zip.
    private static ZipArchive OpenZip(Stream stream, string name, bool leaveOpen)
    {
        byte[] head = new byte[6];
        int got = 0;
        if (stream.CanSeek)
        {
            long start = stream.Position;
            got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            stream.Position = start;
        }
        try
        {
            var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen, Encoding.UTF8);
            try
            {
                // NOTE: the central directory is read on first use; read it now, so that its errors name the file too.
                _ = zip.Entries.Count;
            }
            catch
            {
                zip.Dispose();
                throw;
            }
            return zip;
        }
        catch (InvalidDataException ex)
        {
            ReadOnlySpan<byte> h = head.AsSpan(0, got);
            string problem =
                h.StartsWith("PK\x03\x04"u8) ? "is truncated or corrupt: it starts like a zip archive but its central directory (at the end) is missing or damaged"
                : h.StartsWith(NpyMagic) ? "is a single .npy array, not a valid .npz (zip) file; read it with Npy.Read"
                : got == 0 && stream.CanSeek ? "is not a valid .npz (zip) file: it is empty"
                : "is not a valid .npz (zip) file";
            throw new InvalidDataException($"{name}: {problem} ({ex.Message})", ex);
        }
    }
}
