using SkiaSharp;

namespace NeuralNet.Cli.Plots;

/// <summary>Small helpers for figures composed directly with SkiaSharp (image grids, multi-panel layouts).</summary>
internal static class SkiaCanvas
{
    public static readonly SKColor Ink = new(0x22, 0x22, 0x22);
    public static readonly SKColor Muted = new(0x66, 0x66, 0x66);
    public static readonly SKColor Frame = new(0xBB, 0xBB, 0xBB);

    private static readonly Lazy<string> SansFamily = new(() =>
    {
        foreach (var name in new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI", "Open Sans", "FreeSans" })
        {
            using var face = SKFontManager.Default.MatchFamily(name);
            if (face is not null && string.Equals(face.FamilyName, name, StringComparison.OrdinalIgnoreCase)) return name;
        }
        return ScottPlot.Fonts.Default;
    });

    /// <summary>A sans-serif family installed here (ScottPlot's own default can resolve to a serif face on Linux).</summary>
    public static string FontFamily => SansFamily.Value;

    public static SKTypeface Typeface(bool bold = false) => ScottPlot.Fonts.GetTypeface(FontFamily, bold, false);

    public static SKFont Font(float size, bool bold = false) =>
        new(Typeface(bold), size) { Edging = SKFontEdging.SubpixelAntialias, Subpixel = true };

    public static SKPaint Fill(SKColor color) => new() { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };

    public static SKPaint Stroke(SKColor color, float width) =>
        new() { Color = color, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = width };

    /// <summary>Draws <paramref name="text"/> centred on <paramref name="centerX"/> with its baseline at <paramref name="baseline"/>.</summary>
    public static void TextCentered(SKCanvas canvas, string text, float centerX, float baseline, SKFont font, SKColor color)
    {
        using var paint = Fill(color);
        canvas.DrawText(text, centerX, baseline, SKTextAlign.Center, font, paint);
    }

    public static void TextLeft(SKCanvas canvas, string text, float x, float baseline, SKFont font, SKColor color)
    {
        using var paint = Fill(color);
        canvas.DrawText(text, x, baseline, SKTextAlign.Left, font, paint);
    }

    /// <summary>Shortens <paramref name="text"/> with an ellipsis until it fits in <paramref name="maxWidth"/> pixels.</summary>
    public static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 0; n--)
        {
            string candidate = text[..n].TrimEnd() + "…";
            if (font.MeasureText(candidate) <= maxWidth) return candidate;
        }
        return "…";
    }

    /// <summary>Creates a white canvas, lets <paramref name="draw"/> paint it and writes it as PNG to <paramref name="path"/>.</summary>
    public static void SavePng(string path, int width, int height, Action<SKCanvas> draw)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info) ?? throw new InvalidOperationException($"Could not create a {width}×{height} drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        draw(canvas);
        canvas.Flush();
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Figures.EnsureFolder(path);
        using var stream = File.Create(path);
        data.SaveTo(stream);
    }

    /// <summary>Renders a ScottPlot plot on its own surface (Plot.Render paints the whole canvas it is given).</summary>
    public static SKImage Render(ScottPlot.Plot plot, int width, int height)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Could not create a {width}×{height} drawing surface.");
        plot.Render(surface.Canvas, width, height);
        surface.Canvas.Flush();
        return surface.Snapshot();
    }

    /// <summary>Draws an <paramref name="side"/>×<paramref name="side"/> image, whose pixel colours <paramref name="color"/> gives,
    /// into <paramref name="dest"/> with nearest-neighbour scaling (crisp pixels).</summary>
    public static void DrawPixels(SKCanvas canvas, int side, Func<int, SKColor> color, SKRect dest)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                bitmap.SetPixel(x, y, color(y * side + x));
        using var image = SKImage.FromBitmap(bitmap);
        using var paint = new SKPaint();
        canvas.DrawImage(image, dest, new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None), paint);
    }

    /// <summary>Linear interpolation between colour stops at evenly spaced positions, for t in [0, 1].</summary>
    public static SKColor Interpolate(ReadOnlySpan<SKColor> stops, double t)
    {
        if (double.IsNaN(t)) t = 0.5;
        t = Math.Clamp(t, 0, 1) * (stops.Length - 1);
        int i = Math.Min((int)t, stops.Length - 2);
        double f = t - i;
        SKColor a = stops[i], b = stops[i + 1];
        static byte Mix(byte u, byte v, double f) => (byte)Math.Round(u + (v - u) * f);
        return new SKColor(Mix(a.Red, b.Red, f), Mix(a.Green, b.Green, f), Mix(a.Blue, b.Blue, f));
    }
}
