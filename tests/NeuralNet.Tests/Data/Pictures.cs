using SkiaSharp;

namespace NeuralNet.Tests.Data;

/// <summary>Pictures drawn with SkiaSharp for the image-preparation tests, and what can be measured on a prepared 28×28 one.</summary>
internal static class Pictures
{
    /// <summary>A width×height picture on <paramref name="background"/>, painted by <paramref name="draw"/>, as an SKBitmap.</summary>
    public static SKBitmap Draw(int width, int height, SKColor background, Action<SKCanvas> draw)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        surface.Canvas.Clear(background);
        draw(surface.Canvas);
        surface.Canvas.Flush();
        using var image = surface.Snapshot();
        return SKBitmap.FromImage(image);
    }

    /// <summary>
    /// The bitmap as an uncompressed 24-bit BMP file (SkiaSharp encodes no BMP): a 54-byte header, then the rows bottom
    /// up in B, G, R order, each padded to 4 bytes.
    /// </summary>
    public static byte[] Bmp(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height, stride = (3 * w + 3) / 4 * 4;
        using var ms = new MemoryStream();
        using (var s = new BinaryWriter(ms, System.Text.Encoding.ASCII, leaveOpen: true))
        {
            s.Write((byte)'B'); s.Write((byte)'M'); s.Write(54 + stride * h); s.Write(0); s.Write(54);
            s.Write(40); s.Write(w); s.Write(h); s.Write((short)1); s.Write((short)24); s.Write(0); s.Write(stride * h); s.Write(2835); s.Write(2835); s.Write(0); s.Write(0);
            for (int y = h - 1; y >= 0; y--)
            {
                for (int x = 0; x < w; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    s.Write(c.Blue); s.Write(c.Green); s.Write(c.Red);
                }
                for (int p = 3 * w; p < stride; p++) s.Write((byte)0);
            }
        }
        return ms.ToArray();
    }

    /// <summary>The bitmap's grey values in [0, 1] (BT.601 luma), row by row.</summary>
    public static float[] Grey(SKBitmap bitmap)
    {
        var grey = new float[bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                grey[y * bitmap.Width + x] = (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;
            }
        return grey;
    }

    /// <summary>A stroke paint: antialiased, round caps.</summary>
    public static SKPaint Pen(SKColor color, float width) => new()
    {
        Color = color, StrokeWidth = width, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round,
    };

    /// <summary>The smallest rectangle holding every value above 0 of a 28×28 image: (left, top, width, height).</summary>
    public static (int X, int Y, int Width, int Height) InkBox(float[] image, int side = 28)
    {
        int x0 = side, y0 = side, x1 = -1, y1 = -1;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                if (image[y * side + x] > 0) (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
        return x1 < 0 ? (0, 0, 0, 0) : (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>The centre of mass (Σ v·column / Σ v, Σ v·row / Σ v), in pixel indices: MNIST's digits have it at (14, 14).</summary>
    public static (double X, double Y) CentreOfMass(float[] image, int side = 28)
    {
        double m = 0, mx = 0, my = 0;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                double v = image[y * side + x];
                (m, mx, my) = (m + v, mx + v * x, my + v * y);
            }
        return (mx / m, my / m);
    }
}
