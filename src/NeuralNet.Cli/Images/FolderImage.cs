using System.Runtime.InteropServices;
using SkiaSharp;

namespace NeuralNet.Cli.Images;

/// <summary>A picture decoded and stretched to a fixed size: RGB planes in [0, 1], transparency composited over white.</summary>
internal sealed record FolderImage(float[] Rgb, int Width, int Height, bool HasColour)
{
    /// <summary>The picture's size from its header alone, or null when SkiaSharp cannot read it.</summary>
    public static (int Width, int Height)? PeekSize(string path)
    {
        try
        {
            using var codec = SKCodec.Create(path);
            return codec is null || codec.Info.Width < 1 || codec.Info.Height < 1 ? null : (codec.Info.Width, codec.Info.Height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Decodes <paramref name="path"/> and resizes it (stretched, bilinear) to <paramref name="width"/>×<paramref name="height"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a picture SkiaSharp decodes.</exception>
    public static FolderImage Read(string path, int width, int height)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not a picture SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP)");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = decoded.Width == width && decoded.Height == height && decoded.ColorType == SKColorType.Rgba8888 && decoded.AlphaType == SKAlphaType.Unpremul
            ? decoded.Copy()
            : decoded.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None))
              ?? throw new InvalidDataException($"{path}: the picture could not be resized to {width}×{height}");
        using var rgba8 = resized.ColorType == SKColorType.Rgba8888 && resized.AlphaType == SKAlphaType.Unpremul ? resized.Copy() : ToRgba(resized);
        var bytes = new byte[width * height * 4];
        Marshal.Copy(rgba8.GetPixels(), bytes, 0, bytes.Length);
        int plane = width * height;
        var rgb = new float[3 * plane];
        bool colour = false;
        for (int i = 0; i < plane; i++)
        {
            float a = bytes[4 * i + 3] / 255f;
            byte r = bytes[4 * i], g = bytes[4 * i + 1], b = bytes[4 * i + 2];
            if (r != g || g != b) colour = true;
            rgb[i] = a * r / 255f + (1 - a);
            rgb[plane + i] = a * g / 255f + (1 - a);
            rgb[2 * plane + i] = a * b / 255f + (1 - a);
        }
        return new FolderImage(rgb, width, height, colour);
    }

    private static SKBitmap ToRgba(SKBitmap bitmap)
    {
        var copy = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using var canvas = new SKCanvas(copy);
        canvas.DrawBitmap(bitmap, 0, 0);
        return copy;
    }

    /// <summary>The model input (C, H, W) flattened: RGB as it is for 3 channels, the luma 0.299R + 0.587G + 0.114B for 1.</summary>
    public float[] Channels(int channels)
    {
        if (channels == 3) return Rgb;
        int plane = Width * Height;
        var grey = new float[plane];
        for (int i = 0; i < plane; i++) grey[i] = 0.299f * Rgb[i] + 0.587f * Rgb[plane + i] + 0.114f * Rgb[2 * plane + i];
        return grey;
    }
}
