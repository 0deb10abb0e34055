using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>
/// NumPy's <c>.npy</c> array format, so weights move between NeuralNet and <c>np.load</c> / <c>np.save</c>.
/// A file is the magic <c>\x93NUMPY</c>, a version (1.0), a little-endian uint16 header length, an ASCII
/// Python dict <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (128, 784), }</c> padded with spaces
/// and a final <c>'\n'</c> so the data starts at a multiple of 64 bytes, then the raw little-endian
/// elements in row-major order. Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
/// </summary>
/// <remarks>
/// Writing produces the same bytes as <c>np.save</c> (NumPy 1.24+), header padding included. Reading accepts
/// versions 1.0, 2.0 and 3.0, any key order and spacing, and the dtypes <c>&lt;f2 &lt;f4 &lt;f8</c>,
/// <c>&lt;i1..&lt;i8</c>, <c>&lt;u1..&lt;u8</c> and <c>|b1</c>, converting to the requested element type.
/// Every malformed input throws <see cref="InvalidDataException"/> whose message starts with the
/// caller's name for the file or entry.
/// </remarks>
public static class Npy
{
    private const int ArrayAlign = 64;           // NumPy's ARRAY_ALIGN: data starts at a multiple of 64
    private const int GrowthAxisMaxDigits = 21;  // NumPy's GROWTH_AXIS_MAX_DIGITS: room to grow shape[0] in place
    private const int MaxHeaderLength = 1 << 20; // a sane bound before allocating for a v2/v3 header
    private const int ChunkBytes = 1 << 16;      // conversion buffer; also bounds single Stream calls

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // ---- writing --------------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="tensor"/> as one .npy array: <c>'&lt;f4'</c> for float, <c>'&lt;f8'</c> for double,
    /// <c>'&lt;f2'</c> for Half; C order, the same bytes <c>np.save</c> writes. The stream is left open.
    /// </summary>
    public static void Write<T>(Stream stream, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        DType dtype = DTypeOf<T>();
        stream.Write(HeaderBytes(dtype.Descr, tensor.Shape.Dims));
        WriteData(stream, tensor.ReadOnlySpan);
    }

    /// <summary>The .npy bytes of <paramref name="tensor"/>, as <see cref="Write{T}"/> would write them.</summary>
    public static byte[] ToBytes<T>(Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var ms = new MemoryStream();
        Write(ms, tensor);
        return ms.ToArray();
    }

    /// <summary>Writes <paramref name="values"/> as a 1-D <c>'&lt;i4'</c> array of shape (n,), e.g. labels or step counters.</summary>
    public static void WriteInt32(Stream stream, ReadOnlySpan<int> values)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(HeaderBytes("<i4", [values.Length]));
        WriteData(stream, values);
    }

    /// <summary>
    /// The header exactly as NumPy writes it: magic, version, length, then
    /// <c>{'descr': .., 'fortran_order': False, 'shape': .., }</c> (keys sorted, Python reprs), 21 − digits(shape[0])
    /// spare spaces, and space padding plus <c>'\n'</c> up to a multiple of 64.
    /// </summary>
    internal static byte[] HeaderBytes(string descr, ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder(ArrayAlign * 2);
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ");
        AppendTuple(sb, dims).Append(", }");
        if (dims.Length > 0) sb.Append(' ', GrowthAxisMaxDigits - Digits(dims[0]));

        int hlen = sb.Length + 1;  // + '\n'
        int major = 1, prefix = Magic.Length + 2 + 2;
        // NOTE: NumPy pads 64 − n % 64, a full 64 extra bytes (never 0) when n is already aligned.
        int pad = ArrayAlign - (prefix + hlen) % ArrayAlign;
        if (hlen + pad > ushort.MaxValue)
        {
            major = 2;  // what NumPy falls back to: the same header, a uint32 length
            prefix = Magic.Length + 2 + 4;
            pad = ArrayAlign - (prefix + hlen) % ArrayAlign;
        }

        var bytes = new byte[prefix + hlen + pad];
        Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(hlen + pad));
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(hlen + pad));
        int n = Encoding.ASCII.GetBytes(sb.ToString(), bytes.AsSpan(prefix));
        bytes.AsSpan(prefix + n, pad).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    // Python's tuple repr: (), (5,), (2, 3, 4).
    private static StringBuilder AppendTuple(StringBuilder sb, ReadOnlySpan<int> dims)
    {
        sb.Append('(');
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append(dims.Length == 1 ? ",)" : ")");
    }

    private static int Digits(int value) => value.ToString(CultureInfo.InvariantCulture).Length;

    internal static void WriteData<TElem>(Stream stream, ReadOnlySpan<TElem> values) where TElem : unmanaged
    {
        int size = Unsafe.SizeOf<TElem>();
        int perChunk = ChunkBytes / size;
        byte[]? swap = BitConverter.IsLittleEndian ? null : new byte[ChunkBytes];
        for (int i = 0; i < values.Length; i += perChunk)
        {
            ReadOnlySpan<byte> raw = MemoryMarshal.AsBytes(values.Slice(i, Math.Min(perChunk, values.Length - i)));
            if (swap is null)
            {
                stream.Write(raw);
            }
            else
            {
                raw.CopyTo(swap);
                ReverseEach(swap.AsSpan(0, raw.Length), size);
                stream.Write(swap, 0, raw.Length);
            }
        }
    }

    // ---- reading --------------------------------------------------------------------------------

    /// <summary>
    /// Reads one .npy array from the stream's current position, converting its elements to
    /// <typeparamref name="T"/> (float64 data read as float rounds to nearest). <paramref name="name"/>
    /// (the file or entry) leads every error message.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad magic, unsupported version or dtype, a malformed header,
    /// <c>fortran_order</c> True for rank ≥ 2, or data shorter than the shape needs.</exception>
    public static Tensor<T> Read<T>(Stream stream, string name) where T : unmanaged, IFloatingPointIeee754<T>
        => Read<T>(stream, name, -1);

    /// <summary>Reads a whole .npy byte array; see <see cref="Read{T}(Stream, string)"/>.</summary>
    public static Tensor<T> FromBytes<T>(byte[] bytes, string name = "npy bytes") where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return Read<T>(ms, name, bytes.Length);
    }

    /// <summary>
    /// Reads an integer (or bool) .npy array as a flat row-major int[] (any shape): <c>'&lt;i4'</c>, <c>'&lt;i8'</c>
    /// and the other integer dtypes, each value checked to fit in int32.
    /// </summary>
    public static int[] ReadInt32(Stream stream, string name) => ReadInt32(stream, name, -1);

    // length: bytes the stream holds from its position, or −1 if unknown; lets a truncated
    // file fail before its tensor is allocated.
    internal static Tensor<T> Read<T>(Stream stream, string name, long length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        Header h = ReadHeader(stream, name, length);
        var tensor = new Tensor<T>(h.Shape);
        Span<T> dst = tensor.Span;

        if (IsNative<T>(h.DType))
        {
            // Same layout as T: read straight into the tensor, chunk by chunk.
            int perChunk = ChunkBytes / h.DType.Size;
            for (int i = 0; i < dst.Length; i += perChunk)
            {
                Span<byte> raw = MemoryMarshal.AsBytes(dst.Slice(i, Math.Min(perChunk, dst.Length - i)));
                ReadData(stream, raw, (long)i * h.DType.Size, h, name);
                if (!BitConverter.IsLittleEndian) ReverseEach(raw, h.DType.Size);
            }
            return tensor;
        }

        // NOTE: integers wider than the mantissa (|v| > 2^24 into float) round, as NumPy's astype does.
        ConvertAll(stream, h, name, dst);
        return tensor;
    }

    internal static int[] ReadInt32(Stream stream, string name, long length)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        Header h = ReadHeader(stream, name, length);
        if (h.DType.Kind == 'f') throw Bad(name, $"expected an integer array, got dtype '{h.DType.Descr}' with shape {h.Shape}");
        var result = new int[h.Shape.Length];
        byte[] buffer = new byte[ChunkBytes];
        int size = h.DType.Size, perChunk = ChunkBytes / size;
        for (int i = 0; i < result.Length; i += perChunk)
        {
            int n = Math.Min(perChunk, result.Length - i);
            Span<byte> raw = buffer.AsSpan(0, n * size);
            ReadData(stream, raw, (long)i * size, h, name);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<byte> e = raw.Slice(j * size, size);
                if (h.DType.Kind == 'u' && size == 8)
                {
                    ulong u = BinaryPrimitives.ReadUInt64LittleEndian(e);
                    if (u > int.MaxValue) throw Bad(name, $"element {i + j} = {u} does not fit in int32");
                    result[i + j] = (int)u;
                    continue;
                }
                long v = ReadInteger(e, h.DType);
                if (v is < int.MinValue or > int.MaxValue) throw Bad(name, $"element {i + j} = {v} does not fit in int32");
                result[i + j] = (int)v;
            }
        }
        return result;
    }

    private static void ConvertAll<T>(Stream stream, Header h, string name, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[] buffer = new byte[ChunkBytes];
        int size = h.DType.Size, perChunk = ChunkBytes / size;
        for (int i = 0; i < dst.Length; i += perChunk)
        {
            int n = Math.Min(perChunk, dst.Length - i);
            Span<byte> raw = buffer.AsSpan(0, n * size);
            ReadData(stream, raw, (long)i * size, h, name);
            ConvertChunk(raw, h.DType, dst.Slice(i, n));
        }
    }

    private static void ConvertChunk<T>(ReadOnlySpan<byte> raw, DType dtype, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (dtype.Kind, dtype.Size)
        {
            case ('f', 2):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(2 * i)));
                break;
            case ('f', 4):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i)));
                break;
            case ('f', 8):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(8 * i)));
                break;
            case ('u', 8):
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(BinaryPrimitives.ReadUInt64LittleEndian(raw.Slice(8 * i)));
                break;
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(ReadInteger(raw.Slice(i * dtype.Size, dtype.Size), dtype));
                break;
        }
    }

    private static long ReadInteger(ReadOnlySpan<byte> e, DType dtype) => (dtype.Kind, dtype.Size) switch
    {
        ('i', 1) => (sbyte)e[0],
        ('i', 2) => BinaryPrimitives.ReadInt16LittleEndian(e),
        ('i', 4) => BinaryPrimitives.ReadInt32LittleEndian(e),
        ('i', 8) => BinaryPrimitives.ReadInt64LittleEndian(e),
        ('u', 1) or ('b', 1) => e[0],
        ('u', 2) => BinaryPrimitives.ReadUInt16LittleEndian(e),
        ('u', 4) => BinaryPrimitives.ReadUInt32LittleEndian(e),
        _ => throw new UnreachableException($"integer dtype {dtype.Descr}"),
    };

    private static bool IsNative<T>(DType dtype) =>
        dtype.Kind == 'f' && ((dtype.Size == 4 && typeof(T) == typeof(float))
                           || (dtype.Size == 8 && typeof(T) == typeof(double))
                           || (dtype.Size == 2 && typeof(T) == typeof(Half)));

    // Fills `raw` from the stream or reports how far the data got: `done` bytes were read before this chunk.
    private static void ReadData(Stream stream, Span<byte> raw, long done, Header h, string name)
    {
        int got = stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        if (got < raw.Length) throw Truncated(name, h, done + got);
    }

    // ---- header ---------------------------------------------------------------------------------

    private readonly record struct DType(char Kind, int Size, string Descr);

    private readonly record struct Header(DType DType, Shape Shape, long DataBytes);

    private static DType DTypeOf<T>()
    {
        if (typeof(T) == typeof(float)) return new DType('f', 4, "<f4");
        if (typeof(T) == typeof(double)) return new DType('f', 8, "<f8");
        if (typeof(T) == typeof(Half)) return new DType('f', 2, "<f2");
        throw new NotSupportedException($"Npy: element type {typeof(T).Name} has no .npy dtype; use float, double or Half.");
    }

    private static Header ReadHeader(Stream stream, string name, long length)
    {
        // magic (6) + version (2), then a uint16 (v1) or uint32 (v2, v3) header length
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..8], 8, throwOnEndOfStream: false);
        if (!prefix[..Math.Min(got, 6)].SequenceEqual(Magic[..Math.Min(got, 6)]) || got == 0)
            throw Bad(name, $"not an .npy file (bad magic): starts with {Hex(prefix[..Math.Min(got, 6)])}, expected 93 4E 55 4D 50 59 (\\x93NUMPY)");
        if (got < 8) throw Bad(name, $"truncated: {got} bytes, too short for the .npy magic and version");

        int major = prefix[6], minor = prefix[7];
        if (minor != 0 || major is < 1 or > 3) throw Bad(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        int lengthBytes = major == 1 ? 2 : 4;
        got = stream.ReadAtLeast(prefix.Slice(8, lengthBytes), lengthBytes, throwOnEndOfStream: false);
        if (got < lengthBytes) throw Bad(name, $"truncated: the header length needs {lengthBytes} bytes but only {got} remain");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (headerLength > MaxHeaderLength) throw Bad(name, $"bad header: length {headerLength} bytes is implausible (limit {MaxHeaderLength})");

        var headerBytes = new byte[headerLength];
        got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (got < headerLength) throw Bad(name, $"truncated: header says {headerLength} bytes but only {got} remain");
        // v1 and v2 headers are latin-1 (in practice ASCII); v3 allows UTF-8 in structured field names.
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        Dictionary<string, object?> dict;
        try
        {
            dict = HeaderParser.ParseDict(text);
        }
        catch (FormatException ex)
        {
            throw Bad(name, $"bad header: {ex.Message} in {Quote(text)}");
        }

        object? descr = Required(dict, "descr", text, name);
        object? fortran = Required(dict, "fortran_order", text, name);
        object? shapeValue = Required(dict, "shape", text, name);

        if (descr is not string descrText)
            throw Bad(name, $"unsupported dtype {Quote(text)}: structured dtypes are not supported");
        DType dtype = ParseDescr(descrText, name);

        if (fortran is not bool fortranOrder) throw Bad(name, $"bad header: 'fortran_order' must be True or False in {Quote(text)}");
        if (shapeValue is not List<object?> items) throw Bad(name, $"bad header: 'shape' must be a tuple of integers in {Quote(text)}");
        var dims = new int[items.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            if (items[i] is not long d || d < 0 || d > int.MaxValue)
                throw Bad(name, $"bad header: 'shape' must be a tuple of non-negative int32 extents in {Quote(text)}");
            dims[i] = (int)d;
        }
        // For rank ≤ 1 (and for any shape with ≤ 1 element) C and Fortran order are the same bytes.
        Shape shape;
        try
        {
            shape = new Shape(dims);
        }
        catch (ArgumentException)
        {
            throw Bad(name, $"bad header: shape {Shape.Format(dims)} has more than {int.MaxValue} elements");
        }
        if (fortranOrder && dims.Length > 1 && shape.Length > 1)
            throw Bad(name, $"fortran_order True is not supported (shape {shape}); save a C-ordered array, e.g. np.ascontiguousarray(a)");

        long dataBytes = (long)shape.Length * dtype.Size;
        long available = length >= 0 ? length - (8 + lengthBytes + headerLength)
                       : stream.CanSeek ? stream.Length - stream.Position : -1;
        var header = new Header(dtype, shape, dataBytes);
        if (available >= 0 && available < dataBytes) throw Truncated(name, header, available);
        return header;
    }

    private static object? Required(Dictionary<string, object?> dict, string key, string text, string name)
    {
        if (!dict.TryGetValue(key, out object? value)) throw Bad(name, $"bad header: missing key '{key}' in {Quote(text)}");
        return value;
    }

    // '<f4' → ('f', 4). '|' (not applicable) and '<' are fine for one-byte types; '=' means native, i.e. little here.
    private static DType ParseDescr(string descr, string name)
    {
        if (descr.Length >= 3 && int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size))
        {
            char order = descr[0], kind = descr[1];
            bool little = order == '<' || (order == '=' && BitConverter.IsLittleEndian) || (order is '|' or '>' && size == 1);
            bool known = kind switch
            {
                'f' => size is 2 or 4 or 8,
                'i' or 'u' => size is 1 or 2 or 4 or 8,
                'b' => size == 1,
                _ => false,
            };
            if (little && known) return new DType(kind, size, descr);
        }
        throw Bad(name, $"unsupported dtype '{descr}' (supported: little-endian '<f2' '<f4' '<f8', '<i1'..'<i8', '<u1'..'<u8', '|b1')");
    }

    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "nothing (empty)";
        var sb = new StringBuilder();
        foreach (byte b in bytes) sb.Append(sb.Length == 0 ? "" : " ").Append(b.ToString("X2", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string Quote(string header)
    {
        string t = header.TrimEnd();
        return t.Length <= 200 ? $"\"{t}\"" : $"\"{t[..200]}…\"";
    }

    internal static void ReverseEach(Span<byte> bytes, int size)
    {
        if (size == 1) return;
        for (int i = 0; i < bytes.Length; i += size) bytes.Slice(i, size).Reverse();
    }

    private static InvalidDataException Truncated(string name, Header h, long remain) =>
        new(
            $"{name}: truncated: header says shape {h.Shape} of '{h.DType.Descr}' = {h.DataBytes} data bytes but only {remain} remain");

    private static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");

    /// <summary>
    /// The subset of Python literal syntax .npy headers use: a dict of quoted keys to strings, True/False/None,
    /// integers (a trailing L from Python 2 allowed) and tuples/lists of those. Throws FormatException.
    /// </summary>
    private static class HeaderParser
    {
        public static Dictionary<string, object?> ParseDict(string s)
        {
            int i = 0;
            SkipSpace(s, ref i);
            Expect(s, ref i, '{');
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace(s, ref i);
                if (Peek(s, i) == '}') { i++; break; }
                if (Peek(s, i) is not ('\'' or '"')) throw new FormatException($"expected a quoted key at offset {i}");
                string key = ParseString(s, ref i);
                SkipSpace(s, ref i);
                Expect(s, ref i, ':');
                dict[key] = ParseValue(s, ref i);
                SkipSpace(s, ref i);
                char c = Peek(s, i);
                if (c == ',') i++;
                else if (c == '}') { i++; break; }
                else throw new FormatException($"expected ',' or '}}' at offset {i}");
            }
            SkipSpace(s, ref i);
            if (i != s.Length) throw new FormatException($"unexpected text after the dict at offset {i}");
            return dict;
        }

        private static object? ParseValue(string s, ref int i)
        {
            SkipSpace(s, ref i);
            char c = Peek(s, i);
            if (c is '\'' or '"') return ParseString(s, ref i);
            if (c is '(' or '[')
            {
                char close = c == '(' ? ')' : ']';
                i++;
                var items = new List<object?>();
                while (true)
                {
                    SkipSpace(s, ref i);
                    if (Peek(s, i) == close) { i++; return items; }
                    items.Add(ParseValue(s, ref i));
                    SkipSpace(s, ref i);
                    char d = Peek(s, i);
                    if (d == ',') i++;
                    else if (d == close) { i++; return items; }
                    else throw new FormatException($"expected ',' or '{close}' at offset {i}");
                }
            }
            if (char.IsAsciiDigit(c) || c is '-' or '+')
            {
                int start = i++;
                while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                if (!long.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                    throw new FormatException($"bad integer at offset {start}");
                if (i < s.Length && s[i] is 'L' or 'l') i++;  // Python 2 long: (3L, 4L)
                return value;
            }
            if (char.IsAsciiLetter(c))
            {
                int start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                return s[start..i] switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    var word => throw new FormatException($"unexpected '{word}' at offset {start}"),
                };
            }
            throw new FormatException(i < s.Length ? $"unexpected '{c}' at offset {i}" : "unexpected end");
        }

        private static string ParseString(string s, ref int i)
        {
            char quote = s[i++];
            var sb = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw new FormatException("unterminated string");
                char c = s[i++];
                if (c == quote) return sb.ToString();
                if (c == '\\')
                {
                    if (i >= s.Length) throw new FormatException("unterminated string");
                    c = s[i++];
                }
                sb.Append(c);
            }
        }

        private static char Peek(string s, int i) => i < s.Length ? s[i] : '\0';

        private static void Expect(string s, ref int i, char c)
        {
            if (Peek(s, i) != c) throw new FormatException($"expected '{c}' at offset {i}");
            i++;
        }

        private static void SkipSpace(string s, ref int i)
        {
            while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\r') i++;
        }
    }
}
