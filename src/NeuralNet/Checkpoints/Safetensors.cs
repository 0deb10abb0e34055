using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// The safetensors format (Hugging Face), the common way to hand weights between frameworks without pickle:
/// <code>
///   N        8 bytes, little-endian u64: the header's length
///   header   N bytes of UTF-8 JSON, space-padded:
///            {"__metadata__": {"key": "value", …},
///             "0.weight": {"dtype": "F32", "shape": [128, 784], "data_offsets": [0, 401408]}, …}
///   buffer   each tensor's little-endian, row-major bytes at [begin, end) of it; the tensors tile the buffer
/// </code>
/// Spec and reference implementation: https://github.com/huggingface/safetensors (<c>safetensors/src/tensor.rs</c>).
/// Write with <see cref="Save{T}"/> or <see cref="Write{T}"/>; read with <see cref="SafetensorsReader"/>, which makes
/// every check the reference makes.
/// </summary>
/// <example><code>
/// Safetensors.Save("model.safetensors", model.StateDict(), new Dictionary&lt;string, string&gt; { ["dataset"] = "mnist" });
/// using var st = new SafetensorsReader("model.safetensors");
/// Tensor&lt;float&gt; w = st.Get&lt;float&gt;("0.weight");
/// </code></example>
public static class Safetensors
{
    /// <summary>The largest header the reference accepts (its <c>MAX_HEADER_SIZE</c>), in bytes.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>The header key that holds the free-form string→string metadata instead of a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// The <c>__metadata__</c> key under which <see cref="Save{T}"/> records the SHA-256 of the data buffer (64 lowercase
    /// hex digits); the format has no checksum of its own. <see cref="SafetensorsReader"/> verifies it when present.
    /// </summary>
    public const string Sha256Key = "sha256";

    // The reference pads the header with spaces so the buffer, and so every 8-byte element, starts 8-aligned.
    private const int Alignment = 8;

    /// <summary>
    /// Writes <paramref name="tensors"/> (float → F32, double → F64) and the optional <paramref name="metadata"/> to
    /// <paramref name="path"/> atomically (a temp file renamed over the destination; see <see cref="Npz.Save"/>), with the
    /// SHA-256 of the data buffer in <c>__metadata__["sha256"]</c> (<see cref="Sha256Key"/>) unless <paramref name="checksum"/> is false.
    /// </summary>
    public static void Save<T>(string path, IEnumerable<(string Name, Tensor<T> Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool checksum = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();  // enumerate once, before a temp file exists
        AtomicFile.Write(path, stream => Write(stream, list, metadata, checksum));
    }

    /// <summary>
    /// Writes a safetensors file to <paramref name="stream"/> as the reference does: tensors sorted by name (ordinal),
    /// packed back to back in that order, <c>__metadata__</c> first in the header when given (its keys sorted, so equal
    /// inputs give equal bytes), and the compact JSON header padded with spaces to a multiple of 8 bytes. With
    /// <paramref name="checksum"/>, <c>__metadata__</c> also holds the SHA-256 of the data buffer under <see cref="Sha256Key"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, repeated, or <c>__metadata__</c>; or <paramref name="checksum"/> and <paramref name="metadata"/> has a "sha256" key.</exception>
    public static void Write<T>(Stream stream, IEnumerable<(string Name, Tensor<T> Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool checksum = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        string dtype = typeof(T) == typeof(float) ? "F32"
                     : typeof(T) == typeof(double) ? "F64"
                     : typeof(T) == typeof(Half) ? "F16"
                     : throw new NotSupportedException($"Safetensors: element type {typeof(T).Name} has no dtype here; use float, double or Half.");
        var sorted = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in sorted)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (name == MetadataKey) throw new ArgumentException($"Safetensors.Write: '{MetadataKey}' is reserved for the metadata, not a tensor name.", nameof(tensors));
            if (!seen.Add(name)) throw new ArgumentException($"Safetensors.Write: tensor '{name}' is given twice.", nameof(tensors));
        }
        sorted.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        if (checksum)
        {
            if (metadata is not null && metadata.ContainsKey(Sha256Key))
                throw new ArgumentException($"Safetensors.Write: metadata key '{Sha256Key}' is reserved for the checksum.", nameof(metadata));
            var withSum = metadata is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            withSum[Sha256Key] = DataSha256(sorted);
            metadata = withSum;
        }

        var json = new ArrayBufferWriter<byte>();
        // serde_json escapes only what JSON requires; the relaxed encoder comes closest (no \u002B for '+').
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is not null)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(value, nameof(metadata));
                    w.WriteString(key, value);
                }
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in sorted)
            {
                long bytes = (long)tensor.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int d in tensor.Shape.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }

        int padded = (json.WrittenCount + Alignment - 1) / Alignment * Alignment;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(json.WrittenSpan);
        for (int i = json.WrittenCount; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, tensor) in sorted) Npy.WriteData(stream, tensor.ReadOnlySpan);
    }

    // The hash of exactly the bytes Write puts in the data buffer: each tensor's little-endian elements, in name order.
    private static string DataSha256<T>(List<(string Name, Tensor<T> Tensor)> sorted) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var sha = SHA256.Create();
        using (var sink = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            foreach (var (_, tensor) in sorted) Npy.WriteData(sink, tensor.ReadOnlySpan);
        }
        return System.Convert.ToHexStringLower(sha.Hash!);
    }

    /// <summary>
    /// True when the first bytes of a file of <paramref name="fileLength"/> bytes could start a safetensors file: a header
    /// length no larger than <see cref="MaxHeaderBytes"/>, or a '{' right after the 8 length bytes. Loose on purpose, so
    /// that a damaged safetensors file reaches <see cref="SafetensorsReader"/> and gets its precise error.
    /// </summary>
    internal static bool LooksLikeSafetensors(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length < 8 || fileLength < 8) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return n <= MaxHeaderBytes || (head.Length > 8 && head[8] == (byte)'{');
    }

    // ---- dtypes ---------------------------------------------------------------------------------

    /// <summary>How NeuralNet reads a dtype's elements: as IEEE floats, bfloat16, integers, or not at all.</summary>
    internal enum Kind
    {
        Float,
        BFloat,
        Signed,
        Unsigned,
        Unsupported,
    }

    /// <summary>A safetensors dtype: its name in the header, its size in bits, and how it converts.</summary>
    internal readonly record struct DType(string Name, int Bits, Kind Kind);

    // Every dtype the reference knows (sub-byte F4/F6 included); a header naming any other is invalid.
    private static readonly Dictionary<string, DType> s_dtypes = new DType[]
    {
        new("BOOL", 8, Kind.Unsigned), new("U8", 8, Kind.Unsigned), new("I8", 8, Kind.Signed),
        new("F4", 4, Kind.Unsupported), new("F6_E2M3", 6, Kind.Unsupported), new("F6_E3M2", 6, Kind.Unsupported),
        new("F8_E5M2", 8, Kind.Unsupported), new("F8_E4M3", 8, Kind.Unsupported), new("F8_E8M0", 8, Kind.Unsupported),
        new("F8_E4M3FNUZ", 8, Kind.Unsupported), new("F8_E5M2FNUZ", 8, Kind.Unsupported),
        new("I16", 16, Kind.Signed), new("U16", 16, Kind.Unsigned), new("F16", 16, Kind.Float), new("BF16", 16, Kind.BFloat),
        new("I32", 32, Kind.Signed), new("U32", 32, Kind.Unsigned), new("F32", 32, Kind.Float),
        new("C64", 64, Kind.Unsupported), new("F64", 64, Kind.Float), new("I64", 64, Kind.Signed), new("U64", 64, Kind.Unsigned),
    }.ToDictionary(d => d.Name, StringComparer.Ordinal);

    internal static bool TryGetDType(string name, out DType dtype) => s_dtypes.TryGetValue(name, out dtype);

    internal static string KnownDTypes => string.Join(", ", s_dtypes.Keys);

    internal static string LoadableDTypes => string.Join(", ", s_dtypes.Values.Where(d => d.Kind != Kind.Unsupported).Select(d => d.Name));

    /// <summary>Converts little-endian elements of <paramref name="dtype"/> in <paramref name="raw"/> into <paramref name="dst"/>.</summary>
    internal static void Convert<T>(ReadOnlySpan<byte> raw, DType dtype, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = dtype.Bits / 8;
        switch (dtype.Kind, size)
        {
            case (Kind.Float, 2):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(2 * i)));
                break;
            case (Kind.Float, 4):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i)));
                break;
            case (Kind.Float, 8):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(8 * i)));
                break;
            case (Kind.BFloat, 2):
                // bfloat16 is the top half of a float32: the same sign, exponent and leading 7 mantissa bits.
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = T.CreateChecked(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(2 * i)) << 16));
                break;
            case (Kind.Signed, _):
                for (int i = 0; i < dst.Length; i++)
                {
                    ReadOnlySpan<byte> e = raw.Slice(i * size, size);
                    long v = size switch
                    {
                        1 => (sbyte)e[0],
                        2 => BinaryPrimitives.ReadInt16LittleEndian(e),
                        4 => BinaryPrimitives.ReadInt32LittleEndian(e),
                        _ => BinaryPrimitives.ReadInt64LittleEndian(e),
                    };
                    dst[i] = T.CreateChecked(v);
                }
                break;
            case (Kind.Unsigned, _):
                for (int i = 0; i < dst.Length; i++)
                {
                    ReadOnlySpan<byte> e = raw.Slice(i * size, size);
                    ulong v = size switch
                    {
                        1 => e[0],
                        2 => BinaryPrimitives.ReadUInt16LittleEndian(e),
                        4 => BinaryPrimitives.ReadUInt32LittleEndian(e),
                        _ => BinaryPrimitives.ReadUInt64LittleEndian(e),
                    };
                    dst[i] = T.CreateChecked(v);
                }
                break;
            default:
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"Safetensors: no conversion from {dtype.Name}."));
        }
    }
}
