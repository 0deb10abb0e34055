using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// A file of named tensors, .npz or safetensors, told apart by its first bytes (never by its name): the zip magic
/// "PK\x03\x04" is an .npz; a plausible safetensors header (see <see cref="Safetensors.LooksLikeSafetensors"/>) is
/// safetensors. Text entries map onto safetensors' <c>__metadata__</c> by name without ".json"
/// ("architecture.json" → "architecture").
/// </summary>
internal sealed class CheckpointFile : IDisposable
{
    private readonly NpzReader? _npz;
    private readonly SafetensorsReader? _safetensors;

    private CheckpointFile(string path, NpzReader? npz, SafetensorsReader? safetensors)
    {
        Path = path;
        _npz = npz;
        _safetensors = safetensors;
    }

    /// <summary>The file, as given.</summary>
    public string Path { get; }

    /// <summary>"npz" or "safetensors".</summary>
    public string Format => _npz is not null ? "npz" : "safetensors";

    /// <summary>The tensor names, in file order.</summary>
    public IReadOnlyList<string> Names => _npz?.Names ?? _safetensors!.Names;

    /// <summary>Opens <paramref name="path"/> as whichever format its content is.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Neither format, or a damaged file of one of them.</exception>
    public static CheckpointFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint file not found: '{path}'.", path);
        Span<byte> head = stackalloc byte[9];
        long length;
        int got;
        using (var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = probe.Length;
            got = probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        head = head[..got];
        if (head.StartsWith("PK\x03\x04"u8)) return new CheckpointFile(path, new NpzReader(path), null);
        if (Safetensors.LooksLikeSafetensors(head, length)) return new CheckpointFile(path, null, new SafetensorsReader(path));
        throw new InvalidDataException($"{path}: not a checkpoint: {Describe(head, length)}; expected an .npz (zip, starting with \"PK\\x03\\x04\") or a safetensors file (an 8-byte header length, then '{{').");
    }

    /// <summary>An upper bound on the bytes of tensor data in the file; every stored element takes at least one.</summary>
    public long TensorBytesBound => _npz?.ArrayBytesBound ?? _safetensors!.DataBytes;

    /// <summary>True if the file holds a tensor <paramref name="name"/>.</summary>
    public bool Contains(string name) => _npz?.Contains(name) ?? _safetensors!.Contains(name);

    /// <summary>Tensor <paramref name="name"/>, converted to <typeparamref name="T"/>.</summary>
    public Tensor<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T> =>
        _npz is not null ? _npz.Get<T>(name) : _safetensors!.Get<T>(name);

    /// <summary>The text entry <paramref name="entryName"/> ("architecture.json"), or null if absent.</summary>
    public string? GetText(string entryName)
    {
        if (_npz is not null) return _npz.GetText(entryName);
        string key = entryName.EndsWith(".json", StringComparison.Ordinal) ? entryName[..^5] : entryName;
        return _safetensors!.Metadata.TryGetValue(key, out string? text) ? text : null;
    }

    /// <summary>Where a text entry lives, for messages: "architecture.json" or "__metadata__ \"architecture\"".</summary>
    public string DescribeEntry(string entryName) =>
        _npz is not null ? $"the {entryName} entry" : $"{Safetensors.MetadataKey} \"{(entryName.EndsWith(".json", StringComparison.Ordinal) ? entryName[..^5] : entryName)}\"";

    public void Dispose()
    {
        _npz?.Dispose();
        _safetensors?.Dispose();
    }

    private static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static string Describe(ReadOnlySpan<byte> head, long length)
    {
        if (length == 0) return "the file is empty";
        if (head.StartsWith(NpyMagic)) return "it is a single .npy array";
        if (Onnx.Onnx.LooksLikeOnnx(head)) return "it is an ONNX model (turn it into a checkpoint with 'nn import' or Onnx.Import)";
        var sb = new StringBuilder("it starts with");
        foreach (byte b in head[..Math.Min(head.Length, 8)]) sb.Append(CultureInfo.InvariantCulture, $" {b:X2}");
        if (length < 8) sb.Append(CultureInfo.InvariantCulture, $" and has only {length} bytes");
        else sb.Append(CultureInfo.InvariantCulture, $" (as a safetensors header length: {BinaryPrimitives.ReadUInt64LittleEndian(head):N0} bytes, over the limit of {Safetensors.MaxHeaderBytes:N0})");
        return sb.ToString();
    }
}
