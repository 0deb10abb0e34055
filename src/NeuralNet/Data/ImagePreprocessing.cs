namespace NeuralNet.Data;

/// <summary>
/// Turns a decoded picture of any size into the input an MNIST-style model was trained on: pixel values x in [0, 1]
/// with the background at 0 and the ink (or the garment) bright, as <see cref="Mnist.Load"/>'s x = p/255 gives them.
/// Pictures come in as grey values in [0, 1] (0 black, 1 white), row by row: <c>grey[y·width + x]</c>; decoding
/// the file belongs to the caller.
/// </summary>
/// <remarks>
/// <para><see cref="MnistDigit"/> repeats how MNIST was made (LeCun et al., 1998): each NIST digit was scaled so its
/// longer side is 20 pixels, keeping the aspect ratio, antialiased to grey levels, and placed in a 28×28 field so that
/// its centre of mass is at the centre. <see cref="FashionItem"/> follows Fashion-MNIST (Xiao, Rasul and Vollgraf,
/// 2017): the product is trimmed of the background, its longer edge resized to 28, centred, and the intensities negated
/// (a light product on a dark field). Both find the background from the picture's corners, so dark-on-light and
/// light-on-dark pictures give the same result.</para>
/// <para>Resizing averages areas: an output pixel is the mean of the source area it covers, fractional pixels weighted
/// by the share covered (a box filter), which antialiases when shrinking and keeps the total ink.</para>
/// </remarks>
public static class ImagePreprocessing
{
    /// <summary>The side of an MNIST or Fashion-MNIST image.</summary>
    public const int Side = 28;

    /// <summary>The box MNIST's digits are scaled into: their longer side is 20 pixels.</summary>
    public const int DigitBox = 20;

    /// <summary>In <see cref="MnistDigit"/>, ink below this share of the picture's contrast is background (paper grain, JPEG noise) and becomes 0.</summary>
    public const float NoiseFloor = 0.1f;

    /// <summary>Fashion-MNIST trims edges within 5% of the background's intensity.</summary>
    public const float TrimTolerance = 0.05f;

    /// <summary>
    /// A digit as MNIST has them, 28×28 (784 values, row by row): ink bright on 0, its bounding box scaled so the longer
    /// side is <see cref="DigitBox"/> pixels (area-averaged, aspect ratio kept), placed by whole pixels so that its
    /// centre of mass (Σ v·(column, row) / Σ v) lies within half a pixel of pixel (14, 14).
    /// </summary>
    /// <remarks>
    /// The ink is the distance from the background's shade (the median of the corners), stretched so the darkest (or
    /// lightest) stroke is 1; what lies below <see cref="NoiseFloor"/> of that range (paper grain, JPEG noise) becomes 0.
    /// Pixel (14, 14) is where MNIST has it: its test digits' mean centre of mass, so measured, is (14.01, 13.99). A digit
    /// whose centre of mass is far off its box's centre is moved only as far as the field allows, so no ink is cut off.
    /// </remarks>
    /// <exception cref="ArgumentException">The sizes do not match <paramref name="grey"/>, a value is NaN, or the picture is one uniform shade.</exception>
    public static float[] MnistDigit(ReadOnlySpan<float> grey, int width, int height)
    {
        float[] ink = Ink(grey, width, height, stretch: true, nameof(MnistDigit));
        var (x0, y0, bw, bh) = BoundingBox(ink, width, height, NoiseFloor, nameof(MnistDigit));
        // longer side → 20, the other in proportion (at least one pixel)
        double scale = (double)DigitBox / Math.Max(bw, bh);
        int ow = Math.Clamp((int)Math.Round(bw * scale), 1, DigitBox), oh = Math.Clamp((int)Math.Round(bh * scale), 1, DigitBox);
        float[] digit = new float[ow * oh];
        AreaResize(ink, width, x0, y0, bw, bh, digit, ow, oh);

        // centre of mass (cx, cy) = (Σ v·j / Σ v, Σ v·i / Σ v), moved to pixel (14, 14) by whole pixels
        double mass = 0, mx = 0, my = 0;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double v = digit[i * ow + j];
                mass += v;
                mx += v * j;
                my += v * i;
            }
        int left = Math.Clamp((int)Math.Round(Side / 2 - mx / mass), 0, Side - ow);
        int top = Math.Clamp((int)Math.Round(Side / 2 - my / mass), 0, Side - oh);
        return Place(digit, ow, oh, left, top);
    }

    /// <summary>
    /// A product as Fashion-MNIST has them, 28×28 (784 values, row by row): the background trimmed (edges within
    /// <see cref="TrimTolerance"/> of its shade), the rest resized so its longer edge is 28 (area-averaged, aspect ratio
    /// kept), centred, and light on a 0 field: a product photographed on white is negated.
    /// </summary>
    /// <remarks>
    /// Unlike <see cref="MnistDigit"/> the intensities keep their spread (a grey shirt stays grey); only the background is
    /// brought to 0: x = (v − b)/(1 − b), v the distance from black or white as the background is dark or light, b the
    /// background's own.
    /// </remarks>
    /// <exception cref="ArgumentException">The sizes do not match <paramref name="grey"/>, a value is NaN, or the picture is one uniform shade.</exception>
    public static float[] FashionItem(ReadOnlySpan<float> grey, int width, int height)
    {
        float[] item = Ink(grey, width, height, stretch: false, nameof(FashionItem));
        var (x0, y0, bw, bh) = BoundingBox(item, width, height, TrimTolerance, nameof(FashionItem));
        double scale = (double)Side / Math.Max(bw, bh);
        int ow = Math.Clamp((int)Math.Round(bw * scale), 1, Side), oh = Math.Clamp((int)Math.Round(bh * scale), 1, Side);
        float[] resized = new float[ow * oh];
        AreaResize(item, width, x0, y0, bw, bh, resized, ow, oh);
        // centred; an odd pixel of slack goes before the item, as in Fashion-MNIST (measured on its test set)
        return Place(resized, ow, oh, (Side - ow + 1) / 2, (Side - oh + 1) / 2);
    }

    /// <summary>
    /// Resizes <paramref name="values"/> (width×height, row by row) to <paramref name="outWidth"/>×<paramref name="outHeight"/>
    /// by area averaging, values unchanged otherwise: for models whose input is neither MNIST digits nor Fashion-MNIST.
    /// </summary>
    public static float[] Resize(ReadOnlySpan<float> values, int width, int height, int outWidth, int outHeight)
    {
        CheckSize(values, width, height, nameof(Resize));
        ArgumentOutOfRangeException.ThrowIfLessThan(outWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outHeight, 1);
        float[] output = new float[outWidth * outHeight];
        AreaResize(values, width, 0, 0, width, height, output, outWidth, outHeight);
        return output;
    }

    /// <summary>True when the picture's background (the median shade of its corners) is light: dark ink on light paper.</summary>
    public static bool IsDarkOnLight(ReadOnlySpan<float> grey, int width, int height)
    {
        CheckSize(grey, width, height, nameof(IsDarkOnLight));
        return Background(grey, width, height) >= 0.5f;
    }

    /// <summary>
    /// The background's shade: the median of the four corner squares (each 1/10 of the shorter side, at least a pixel),
    /// which a picture of one object leaves to the background even when the object fills the frame edge to edge (as
    /// Fashion-MNIST trimmed against its corner pixels). When that is mid-grey (0.4–0.6), the median of the whole picture.
    /// </summary>
    private static float Background(ReadOnlySpan<float> grey, int width, int height)
    {
        int t = Math.Max(1, Math.Min(width, height) / 10);
        var corners = new List<float>(4 * t * t);
        for (int y = 0; y < t; y++)
            for (int x = 0; x < t; x++)
            {
                corners.Add(grey[y * width + x]);
                corners.Add(grey[y * width + width - 1 - x]);
                corners.Add(grey[(height - 1 - y) * width + x]);
                corners.Add(grey[(height - 1 - y) * width + width - 1 - x]);
            }
        float b = Median(corners);
        if (b > 0.4f && b < 0.6f)
        {
            var all = new List<float>(grey.Length);
            foreach (float v in grey) all.Add(v);
            b = Median(all);
        }
        return b;
    }

    private static float Median(List<float> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>
    /// The picture as ink in [0, 1] on a 0 background. v = 1 − grey on a light background, grey on a dark one; b is the
    /// background's v. With <paramref name="stretch"/>: x = (v − b)/(peak − b), so the strongest ink is 1, and x below
    /// <see cref="NoiseFloor"/> (faint noise) is 0; a clean picture (b = 0, peak = 1) keeps its values from the floor up.
    /// Without: x = (v − b)/(1 − b). Clamped to [0, 1].
    /// </summary>
    private static float[] Ink(ReadOnlySpan<float> grey, int width, int height, bool stretch, string caller)
    {
        CheckSize(grey, width, height, caller);
        foreach (float g in grey)
            if (float.IsNaN(g)) throw new ArgumentException($"ImagePreprocessing.{caller}: the grey values contain NaN.", nameof(grey));
        float background = Background(grey, width, height);
        bool invert = background >= 0.5f;
        float b = invert ? 1 - background : background;
        float peak = float.NegativeInfinity;
        var v = new float[grey.Length];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = invert ? 1 - grey[i] : grey[i];
            peak = Math.Max(peak, v[i]);
        }
        if (!(peak - b > 1e-3f))
            throw new ArgumentException($"ImagePreprocessing.{caller}: the picture is one uniform shade ({background:0.###}); there is nothing to find on it.", nameof(grey));
        float top = stretch ? peak : 1;
        float range = Math.Max(top - b, 1e-3f);
        for (int i = 0; i < v.Length; i++)
        {
            float x = Math.Clamp((v[i] - b) / range, 0, 1);
            v[i] = stretch && x < NoiseFloor ? 0 : x;
        }
        return v;
    }

    /// <summary>The smallest rectangle holding every value above <paramref name="threshold"/>.</summary>
    private static (int X, int Y, int Width, int Height) BoundingBox(float[] ink, int width, int height, float threshold, string caller)
    {
        int x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (ink[y * width + x] > threshold)
                {
                    x0 = Math.Min(x0, x);
                    x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y);
                    y1 = Math.Max(y1, y);
                }
        if (x1 < 0) throw new ArgumentException($"ImagePreprocessing.{caller}: nothing on the picture stands out from its background.");
        return (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>A 28×28 field of zeros with <paramref name="image"/> (w×h) copied in at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    private static float[] Place(float[] image, int w, int h, int left, int top)
    {
        var field = new float[Side * Side];
        for (int i = 0; i < h; i++) image.AsSpan(i * w, w).CopyTo(field.AsSpan((top + i) * Side + left, w));
        return field;
    }

    /// <summary>
    /// Area averaging of the source rectangle (x0, y0, sw, sh) of <paramref name="source"/> (rows of
    /// <paramref name="stride"/>) into <paramref name="output"/> (ow×oh): output pixel (i, j) is the mean of the source
    /// over [x0 + j·sw/ow, x0 + (j+1)·sw/ow) × [y0 + i·sh/oh, …), each source pixel weighted by the part it covers.
    /// The filter is separable: rows first, then columns.
    /// </summary>
    private static void AreaResize(ReadOnlySpan<float> source, int stride, int x0, int y0, int sw, int sh, Span<float> output, int ow, int oh)
    {
        var columns = Weights(sw, ow);
        var rows = Weights(sh, oh);
        var across = new double[sh * ow]; // each source row resized to ow
        for (int y = 0; y < sh; y++)
        {
            var row = source.Slice((y0 + y) * stride + x0, sw);
            for (int j = 0; j < ow; j++)
            {
                double sum = 0;
                foreach (var (index, weight) in columns[j]) sum += weight * row[index];
                across[y * ow + j] = sum;
            }
        }
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double sum = 0;
                foreach (var (index, weight) in rows[i]) sum += weight * across[index * ow + j];
                output[i * ow + j] = (float)sum;
            }
    }

    /// <summary>
    /// For each of <paramref name="outputs"/> cells spanning n/outputs source pixels: the source pixels it overlaps and
    /// the overlap's share of the cell (the shares sum to 1).
    /// </summary>
    private static (int Index, double Weight)[][] Weights(int n, int outputs)
    {
        var weights = new (int, double)[outputs][];
        double step = (double)n / outputs;
        for (int o = 0; o < outputs; o++)
        {
            double start = o * step, end = (o + 1) * step;
            var cell = new List<(int, double)>();
            for (int s = (int)Math.Floor(start); s < Math.Min(n, (int)Math.Ceiling(end)); s++)
            {
                double overlap = Math.Min(end, s + 1) - Math.Max(start, s);
                if (overlap > 1e-12) cell.Add((s, overlap / step));
            }
            weights[o] = cell.ToArray();
        }
        return weights;
    }

    private static void CheckSize(ReadOnlySpan<float> values, int width, int height, string caller)
    {
        if (width < 1 || height < 1 || (long)width * height != values.Length)
            throw new ArgumentException($"ImagePreprocessing.{caller}: {values.Length} values do not make a {width}×{height} picture.", nameof(values));
    }
}
