using System.Runtime.InteropServices;
using SkiaSharp;

namespace NeuralNet.Cli;

/// <summary>A decoded picture as grey values in [0, 1] (0 black, 1 white), row by row: what <see cref="NeuralNet.Data.ImagePreprocessing"/> takes.</summary>
internal sealed record GreyImage(float[] Pixels, int Width, int Height)
{
    /// <summary>
    /// Decodes <paramref name="path"/> (PNG, JPEG, BMP, GIF, WebP: whatever SkiaSharp reads) to grey: the luma
    /// 0.299·R + 0.587·G + 0.114·B (ITU-R BT.601, as PIL's "L"), transparent parts composited over white, and the
    /// picture turned upright as its EXIF orientation says (phone photos).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is missing, unreadable or not a picture; the message names it and says which.</exception>
    public static GreyImage Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidDataException($"{path}: file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot be read: {e.Message}");
        }
        return Decode(bytes, path);
    }

    /// <summary>The largest picture <see cref="Decode"/> accepts by default: 50 million pixels (a 200 MB RGBA buffer).</summary>
    public const long DefaultMaxPixels = 50_000_000;

    /// <summary>
    /// Decodes an encoded picture held in memory, as <see cref="Read"/> does a file; <paramref name="name"/> names it in
    /// errors. A picture of more than <paramref name="maxPixels"/> pixels is refused before its pixels are decoded.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are empty, no picture, cut short or too large; the message says which.</exception>
    public static GreyImage Decode(byte[] bytes, string name, long maxPixels = DefaultMaxPixels)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"{name}: the file is empty");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException($"{name}: not a picture SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP); it starts with {Convert.ToHexString(bytes.AsSpan(0, Math.Min(8, bytes.Length)))}");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width < 1 || info.Height < 1) throw new InvalidDataException($"{name}: the picture is {info.Width}×{info.Height}");
        if ((long)info.Width * info.Height > maxPixels)
            throw new InvalidDataException($"{name}: the picture is {info.Width}×{info.Height}, more than the {maxPixels:N0} pixels accepted");
        var rgba = new byte[info.BytesSize];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult result;
        try
        {
            result = codec.GetPixels(info, handle.AddrOfPinnedObject());
        }
        finally
        {
            handle.Free();
        }
        if (result == SKCodecResult.IncompleteInput) throw new InvalidDataException($"{name}: the picture's data is cut short (truncated file)");
        if (result != SKCodecResult.Success) throw new InvalidDataException($"{name}: the picture could not be decoded ({result})");

        int w = info.Width, h = info.Height;
        var grey = new float[w * h];
        for (int i = 0; i < grey.Length; i++)
        {
            float r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2], a = rgba[4 * i + 3] / 255f;
            float luma = (0.299f * r + 0.587f * g + 0.114f * b) / 255f;
            grey[i] = a * luma + (1 - a); // over white
        }
        return Upright(grey, w, h, codec.EncodedOrigin);
    }

    /// <summary>Applies an EXIF orientation: the stored rows become the picture as it should be seen.</summary>
    private static GreyImage Upright(float[] grey, int w, int h, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0) return new GreyImage(grey, w, h);
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int ow = swap ? h : w, oh = swap ? w : h;
        var output = new float[grey.Length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                // (sx, sy): the stored pixel shown at (x, y)
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                output[y * ow + x] = grey[sy * w + sx];
            }
        return new GreyImage(output, ow, oh);
    }

    /// <summary>Writes values in [0, 1] (row by row, <paramref name="width"/>×<paramref name="height"/>) as an 8-bit grey PNG, v ↦ round(255·v).</summary>
    public static void WritePng(string path, ReadOnlySpan<float> values, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var pixels = new byte[width * height];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)Math.Round(Math.Clamp(values[i], 0f, 1f) * 255f);
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"{path}: SkiaSharp could not encode a {width}×{height} grey PNG");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using var stream = File.Create(path);
        data.SaveTo(stream);
    }
}
