using System.IO.Compression;
using System.Numerics;
using System.Text;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// Writes an .npz archive, NumPy's <c>np.savez</c> format: a zip whose entries are <c>NAME.npy</c> arrays
/// (see <see cref="Npy"/>), readable with <c>np.load(path)[NAME]</c>. Entries are stored uncompressed
/// unless asked otherwise (<c>np.savez_compressed</c>) and stamped 1980-01-01, as NumPy does, so equal
/// contents give equal files. The zip's central directory is written on <see cref="Dispose"/>; for a
/// crash-safe file on disk use <see cref="Npz.Save"/>.
/// </summary>
/// <example><code>
/// using var w = new NpzWriter(stream);
/// w.Add("0.weight", linear.Weight.Value);   // → entry "0.weight.npy"
/// w.AddText("architecture.json", json);
/// </code></example>
public sealed class NpzWriter : IDisposable
{
    // The DOS epoch: the earliest zip time, and Python zipfile's default that np.savez leaves in place.
    private static readonly DateTimeOffset s_timestamp = new(new DateTime(1980, 1, 1, 0, 0, 0, DateTimeKind.Unspecified), TimeSpan.Zero);

    private readonly ZipArchive _zip;
    private readonly CompressionLevel _level;
    private readonly HashSet<string> _entries = new(StringComparer.Ordinal);

    /// <summary>Starts an archive on <paramref name="stream"/>.</summary>
    /// <param name="stream">Where the zip goes; need not be seekable.</param>
    /// <param name="compressed">Deflate the entries, like <c>np.savez_compressed</c>; default stored, like <c>np.savez</c>.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open after <see cref="Dispose"/>.</param>
    public NpzWriter(Stream stream, bool compressed = false, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen, Encoding.UTF8);
        _level = compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression;
    }

    /// <summary>Adds <paramref name="tensor"/> as entry <c><paramref name="name"/>.npy</c> (float → '&lt;f4', double → '&lt;f8').</summary>
    public void Add<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using Stream s = Open(ArrayEntry(name));
        Npy.Write(s, tensor);
    }

    /// <summary>Adds a 1-D '&lt;i4' array as entry <c><paramref name="name"/>.npy</c>.</summary>
    public void AddInt32(string name, ReadOnlySpan<int> values)
    {
        using Stream s = Open(ArrayEntry(name));
        Npy.WriteInt32(s, values);
    }

    /// <summary>Adds a raw UTF-8 (no BOM) entry named exactly <paramref name="entryName"/>, e.g. "architecture.json".</summary>
    public void AddText(string entryName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using Stream s = Open(entryName);
        s.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
    }

    /// <summary>Adds an entry named exactly <paramref name="entryName"/> holding <paramref name="content"/> as it is (e.g. one copied from another archive).</summary>
    public void AddBytes(string entryName, ReadOnlySpan<byte> content)
    {
        using Stream s = Open(entryName);
        s.Write(content);
    }

    /// <summary>Finishes the archive (writes the zip central directory).</summary>
    public void Dispose() => _zip.Dispose();

    private static string ArrayEntry(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return name + ".npy";
    }

    private Stream Open(string entryName)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryName);
        if (!_entries.Add(entryName)) throw new ArgumentException($"NpzWriter: entry '{entryName}' was already added.", nameof(entryName));
        ZipArchiveEntry entry = _zip.CreateEntry(entryName, _level);
        entry.LastWriteTime = s_timestamp;
        return entry.Open();
    }
}
