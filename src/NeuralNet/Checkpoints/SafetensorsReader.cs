using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// Reads a safetensors file (see <see cref="Safetensors"/>): the header is read and validated when the reader opens,
/// tensors are read on demand and converted to the requested element type. Not thread-safe: one reader per thread.
/// </summary>
/// <remarks>
/// The checks are the reference implementation's (<c>SafeTensors::read_metadata</c> and <c>Metadata::validate</c>
/// in huggingface/safetensors), in its order; each failure is an <see cref="InvalidDataException"/> that starts with
/// the file's name and then names the tensor and the field:
/// <list type="bullet">
/// <item>fewer than 8 bytes (HeaderTooSmall); a header length over 100,000,000 (HeaderTooLarge) or past the end of
/// the file (InvalidHeaderLength);</item>
/// <item>a header that is not UTF-8 (InvalidHeader), does not start with '{' (InvalidHeaderStart), or is not JSON of the
/// expected form: tensor entries with a known "dtype", a "shape" of u64 extents and two u64 "data_offsets", and a
/// string→string "__metadata__" (InvalidHeaderDeserialization); a name given twice;</item>
/// <item>with the entries sorted by offsets: a tensor that does not begin where the previous one ends, or ends before it
/// begins (InvalidOffset); a shape whose element or byte count overflows 64 bits (ValidationOverflow); a byte span
/// that is not shape × dtype size (TensorInvalidInfo);</item>
/// <item>tensors that do not end exactly at the end of the file (MetadataIncompleteBuffer).</item>
/// </list>
/// Loading supports F64, F32, F16, BF16 and the integer and BOOL dtypes; the 8-, 6- and 4-bit floats and C64 parse and
/// validate but are refused by <see cref="Get{T}"/>.
/// </remarks>
public sealed class SafetensorsReader : IDisposable
{
    private const int ChunkBytes = 1 << 16;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly string _name;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;
    private readonly string[] _names;
    private readonly Dictionary<string, string> _metadata;

    /// <summary>Opens and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file breaks the format; the message says where.</exception>
    public SafetensorsReader(string path)
        : this(OpenFile(path), path, leaveOpen: false)
    {
    }

    /// <summary>Reads from a seekable <paramref name="stream"/> whose safetensors data starts at its current position; <paramref name="name"/> labels error messages.</summary>
    public SafetensorsReader(Stream stream, string name = "safetensors stream", bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("SafetensorsReader needs a readable, seekable stream.", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        _name = name;
        try
        {
            long start = stream.Position;
            var (headerLength, root) = ReadHeaderJson(stream, name);
            using (root)
            {
                (_tensors, _metadata) = ParseEntries(root.RootElement, name);
            }
            _names = Validate(_tensors, stream.Length - start - 8 - headerLength, name);
            _dataStart = start + 8 + headerLength;
            if (_metadata.TryGetValue(Safetensors.Sha256Key, out string? recorded)) VerifySha256(recorded);
        }
        catch
        {
            if (!leaveOpen) stream.Dispose();
            throw;
        }
    }

    /// <summary>The tensor names, in the order of their data in the file.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The bytes of the data buffer (validated: exactly the tensors' bytes).</summary>
    internal long DataBytes => _tensors.Values.Sum(t => t.ByteLength);

    /// <summary>The <c>__metadata__</c> strings (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>True if the file has a tensor <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The header entry of tensor <paramref name="name"/>: dtype, shape and offsets, without reading its data.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message lists the available names.</exception>
    public SafetensorsTensorInfo Info(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException(
            $"{_name}: no tensor '{name}'; available: " + (_names.Length == 0 ? "(none)" : string.Join(", ", _names.Select(n => $"'{n}'"))));
    }

    /// <summary>Tensor <paramref name="name"/>, converted to <typeparamref name="T"/> (F64 read as float rounds to nearest).</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    /// <exception cref="InvalidDataException">Its dtype cannot be loaded, it has more than 2³¹ − 1 elements, or the file changed underneath.</exception>
    public Tensor<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SafetensorsTensorInfo info = Info(name);
        Safetensors.TryGetDType(info.DType, out var dtype);
        if (dtype.Kind == Safetensors.Kind.Unsupported)
            throw Bad(_name, $"tensor '{name}': \"dtype\" {info.DType} cannot be loaded (loadable: {Safetensors.LoadableDTypes}); convert it first, e.g. tensor.float()");
        var dims = new int[info.Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            if (info.Shape[i] > int.MaxValue) throw TooLarge(info);
            dims[i] = (int)info.Shape[i];
        }
        Shape shape;
        try
        {
            shape = new Shape(dims);
        }
        catch (ArgumentException)
        {
            throw TooLarge(info);
        }

        var tensor = new Tensor<T>(shape);
        Span<T> dst = tensor.Span;
        int size = dtype.Bits / 8;
        _stream.Position = _dataStart + info.Begin;
        bool native = dtype.Kind == Safetensors.Kind.Float && size == System.Runtime.CompilerServices.Unsafe.SizeOf<T>()
                   && (size != 2 || typeof(T) == typeof(Half));
        if (native)
        {
            // Same layout as T: read straight into the tensor.
            Span<byte> raw = MemoryMarshal.AsBytes(dst);
            ReadExactly(raw, info);
            if (!BitConverter.IsLittleEndian) Npy.ReverseEach(raw, size);
            return tensor;
        }
        byte[] buffer = new byte[ChunkBytes];
        int perChunk = ChunkBytes / size;
        for (int i = 0; i < dst.Length; i += perChunk)
        {
            int n = Math.Min(perChunk, dst.Length - i);
            Span<byte> raw = buffer.AsSpan(0, n * size);
            ReadExactly(raw, info);
            Safetensors.Convert(raw, dtype, dst.Slice(i, n));
        }
        return tensor;
    }

    /// <summary>Closes the file (or the stream, unless it was opened with leaveOpen).</summary>
    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    // The data buffer, from the end of the header to the end of the file, must hash to what the writer recorded.
    private void VerifySha256(string recorded)
    {
        string key = $"{Safetensors.MetadataKey}[\"{Safetensors.Sha256Key}\"]";
        if (recorded.Length != 64 || !recorded.All(char.IsAsciiHexDigit))
            throw Bad(_name, $"{key} must be 64 hex digits (the SHA-256 of the data buffer), but is \"{(recorded.Length > 80 ? recorded[..80] + "…" : recorded)}\"");
        _stream.Position = _dataStart;
        byte[] hash = SHA256.HashData(_stream);
        string actual = Convert.ToHexStringLower(hash);
        if (!actual.Equals(recorded, StringComparison.OrdinalIgnoreCase))
            throw Bad(_name, $"SHA-256 mismatch: the data buffer hashes to {actual} but {key} records {recorded.ToLowerInvariant()}; the file was changed or damaged after it was written");
    }

    private void ReadExactly(Span<byte> raw, SafetensorsTensorInfo info)
    {
        int got = _stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        if (got < raw.Length) throw Bad(_name, $"tensor '{info.Name}': the file ended inside its data; was it changed while open?");
    }

    private InvalidDataException TooLarge(SafetensorsTensorInfo info) =>
        Bad(_name, $"tensor '{info.Name}': \"shape\" {info.ShapeText} has an extent or element count over {int.MaxValue}, too large to load");

    private static FileStream OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: '{path}'.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    // ---- header ---------------------------------------------------------------------------------

    // The 8-byte length, then the header's bytes: UTF-8, starting with '{', parsed as JSON.
    private static (long HeaderLength, JsonDocument Json) ReadHeaderJson(Stream stream, string name)
    {
        long length = stream.Length - stream.Position;
        if (length < 8)
            throw Bad(name, $"header too small: the file has {length} bytes, but a safetensors file starts with an 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > Safetensors.MaxHeaderBytes)
            throw Bad(name, string.Create(CultureInfo.InvariantCulture,
                $"header too large: the first 8 bytes give a header length of {n} bytes, over the limit of {Safetensors.MaxHeaderBytes:N0}; is this a safetensors file?"));
        if ((long)n > length - 8)
            throw Bad(name, $"invalid header length: the header is said to be {n} bytes, but only {length - 8} bytes follow the length field; the file is truncated");

        byte[] header = new byte[n];
        stream.ReadExactly(header);
        try
        {
            s_strictUtf8.GetCharCount(header);
        }
        catch (DecoderFallbackException e)
        {
            throw Bad(name, $"invalid header: it is not valid UTF-8 (bad byte at header offset {e.Index})");
        }
        if (n == 0 || header[0] != (byte)'{')
            throw Bad(name, n == 0 ? "invalid header start: the header is empty; it must be a JSON object starting with '{'"
                : $"invalid header start: the header must start with '{{' but starts with {Describe(header[0])}");
        try
        {
            return ((long)n, JsonDocument.Parse(header));
        }
        catch (JsonException e)
        {
            throw Bad(name, $"invalid header: not valid JSON ({e.Message})");
        }
    }

    // Every key but __metadata__ is a tensor {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}.
    // NOTE: like the reference (serde without deny_unknown_fields), other keys inside a tensor's entry are ignored.
    private static (Dictionary<string, SafetensorsTensorInfo>, Dictionary<string, string>) ParseEntries(JsonElement root, string name)
    {
        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        foreach (JsonProperty entry in root.EnumerateObject())
        {
            string key = entry.Name;
            if (key == Safetensors.MetadataKey)
            {
                if (metadata is not null) throw Bad(name, $"invalid header: \"{Safetensors.MetadataKey}\" appears twice");
                metadata = ParseMetadata(entry.Value, name);
                continue;
            }
            if (tensors.ContainsKey(key)) throw Bad(name, $"invalid header: tensor '{key}' appears twice");
            tensors[key] = ParseTensor(key, entry.Value, name);
        }
        return (tensors, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement value, string name)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value.ValueKind == JsonValueKind.Null) return metadata;  // serde reads null as "no metadata"
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad(name, $"invalid header: \"{Safetensors.MetadataKey}\" must be an object of strings, not {Kind(value)}");
        foreach (JsonProperty kv in value.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
                throw Bad(name, $"invalid header: \"{Safetensors.MetadataKey}\" must map strings to strings, but \"{kv.Name}\" is {Kind(kv.Value)}");
            if (!metadata.TryAdd(kv.Name, kv.Value.GetString()!))
                throw Bad(name, $"invalid header: \"{Safetensors.MetadataKey}\" has the key \"{kv.Name}\" twice");
        }
        return metadata;
    }

    private static SafetensorsTensorInfo ParseTensor(string tensor, JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad(name, $"invalid header: tensor '{tensor}' must be an object with \"dtype\", \"shape\" and \"data_offsets\", not {Kind(value)}");
        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            ref JsonElement? slot = ref dtypeValue;
            if (field.Name == "dtype") slot = ref dtypeValue;
            else if (field.Name == "shape") slot = ref shapeValue;
            else if (field.Name == "data_offsets") slot = ref offsetsValue;
            else continue;
            if (slot is not null) throw Bad(name, $"invalid header: tensor '{tensor}' has \"{field.Name}\" twice");
            slot = field.Value;
        }

        JsonElement dt = dtypeValue ?? throw Missing(tensor, "dtype", name);
        if (dt.ValueKind != JsonValueKind.String)
            throw Bad(name, $"invalid header: tensor '{tensor}': \"dtype\" must be a string such as \"F32\", not {Kind(dt)}");
        string dtype = dt.GetString()!;
        if (!Safetensors.TryGetDType(dtype, out _))
            throw Bad(name, $"invalid header: tensor '{tensor}': unknown \"dtype\" \"{dtype}\" (known: {Safetensors.KnownDTypes})");

        ulong[] shape = UInts(tensor, "shape", shapeValue ?? throw Missing(tensor, "shape", name), name);
        ulong[] offsets = UInts(tensor, "data_offsets", offsetsValue ?? throw Missing(tensor, "data_offsets", name), name);
        if (offsets.Length != 2)
            throw Bad(name, $"invalid header: tensor '{tensor}': \"data_offsets\" must be [begin, end], got {offsets.Length} numbers");
        if (offsets[0] > long.MaxValue || offsets[1] > long.MaxValue)
            throw Bad(name, $"invalid offset: tensor '{tensor}': \"data_offsets\" [{offsets[0]}, {offsets[1]}] point past 2^63 bytes, beyond any file");
        return new SafetensorsTensorInfo(tensor, dtype, shape, (long)offsets[0], (long)offsets[1]);
    }

    private static ulong[] UInts(string tensor, string field, JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw Bad(name, $"invalid header: tensor '{tensor}': \"{field}\" must be an array of non-negative integers, not {Kind(value)}");
        var result = new ulong[value.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt64(out result[i]))
                throw Bad(name, $"invalid header: tensor '{tensor}': \"{field}\" must hold non-negative integers below 2^64, but has {item.GetRawText()}");
            i++;
        }
        return result;
    }

    // The reference's Metadata::validate: in offset order, each tensor begins where the previous ended and spans
    // exactly shape × dtype size bytes; then the last end must be the end of the file.
    private static string[] Validate(Dictionary<string, SafetensorsTensorInfo> tensors, long bufferLength, string name)
    {
        var ordered = tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End).ToArray();
        long start = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in ordered)
        {
            string offsets = $"\"data_offsets\" [{t.Begin}, {t.End}]";
            if (t.End < t.Begin)
                throw Bad(name, $"invalid offset: tensor '{t.Name}': {offsets} end before they begin");
            if (t.Begin != start)
            {
                string after = previous is null ? "the start of the data buffer (offset 0)" : $"tensor '{previous.Name}', which ends at {start}";
                throw Bad(name, t.Begin > start
                    ? $"invalid offset: tensor '{t.Name}': {offsets} leave a gap of {t.Begin - start} bytes after {after}"
                    : $"invalid offset: tensor '{t.Name}': {offsets} overlap {after}");
            }
            start = t.End;

            Safetensors.TryGetDType(t.DType, out var dtype);
            ulong elements = 1, bits;
            try
            {
                foreach (ulong d in t.Shape) elements = checked(elements * d);
                bits = checked(elements * (ulong)dtype.Bits);
            }
            catch (OverflowException)
            {
                throw Bad(name, $"validation overflow: tensor '{t.Name}': \"shape\" {t.ShapeText} of {t.DType} has more elements or bytes than 64 bits can count");
            }
            if (bits % 8 != 0)
                throw Bad(name, $"tensor info invalid: tensor '{t.Name}': \"shape\" {t.ShapeText} of {t.DType} ({dtype.Bits}-bit) is not a whole number of bytes");
            if ((ulong)t.ByteLength != bits / 8)
                throw Bad(name, $"tensor info invalid: tensor '{t.Name}': {offsets} span {t.ByteLength} bytes, but \"shape\" {t.ShapeText} of \"dtype\" {t.DType} needs {bits / 8}");
            previous = t;
        }
        if (start != bufferLength)
        {
            string last = previous is null ? "there are no tensors" : $"the last tensor, '{previous.Name}', ends at {start}";
            throw Bad(name, start < bufferLength
                ? $"metadata incomplete buffer: the data buffer after the header holds {bufferLength} bytes, but {last}: {bufferLength - start} bytes belong to no tensor"
                : $"metadata incomplete buffer: {last}, but the data buffer after the header holds only {bufferLength} bytes; the file is truncated");
        }
        return ordered.Select(t => t.Name).ToArray();
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {e.GetRawText()}",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    private static string Describe(byte b) => b is >= 0x20 and < 0x7F
        ? string.Create(CultureInfo.InvariantCulture, $"'{(char)b}' (0x{b:X2})")
        : string.Create(CultureInfo.InvariantCulture, $"byte 0x{b:X2}");

    private static InvalidDataException Missing(string tensor, string field, string name) =>
        Bad(name, $"invalid header: tensor '{tensor}' lacks \"{field}\"");

    private static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");
}
