using System.Diagnostics;
using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// im2col and col2im for one image: the two data movements that turn a 2-D convolution into a matrix multiply
/// (PyTorch: <c>F.unfold</c> and <c>F.fold</c>). Square kernel k, stride s, zero padding p; output
/// Ho = (H + 2p − k)/s + 1, Wo likewise.
/// </summary>
/// <remarks>
/// <code>
///   cols[(c·k + i)·k + j, oh·Wo + ow] = x[c, oh·s − p + i, ow·s − p + j]   (0 outside the image)
/// </code>
/// Row r = (c, i, j) of cols lines up with column r of a weight viewed as (out, C·k·k), so y = W·cols.
/// For each (c, i, j) the valid output columns form one interval [owLo, owHi); with s = 1 each image row is then
/// a single contiguous copy (Unfold) or vector add (Fold).
/// </remarks>
public static class Im2Col
{
    /// <summary>Ho (or Wo) = (size + 2·padding − kernel)/stride + 1, or a value &lt; 1 when the kernel does not fit.</summary>
    public static int OutputSize(int size, int kernelSize, int stride, int padding) =>
        size + 2 * padding < kernelSize ? 0 : (size + 2 * padding - kernelSize) / stride + 1;

    /// <summary>cols (C·k·k, Ho·Wo) = im2col(x), x one image (C, H, W).</summary>
    public static void Unfold<T>(ReadOnlySpan<T> x, int channels, int height, int width, int kernelSize, int stride, int padding, Span<T> cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = kernelSize, s = stride, p = padding;
        int oh = OutputSize(height, k, s, p), ow = OutputSize(width, k, s, p), plane = oh * ow;
        Debug.Assert(x.Length >= channels * height * width && cols.Length >= channels * k * k * plane && oh > 0 && ow > 0);
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<T> image = x.Slice(c * height * width, height * width);
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < k; j++, row++)
                {
                    Span<T> dst = cols.Slice(row * plane, plane);
                    (int lo, int hi) = ValidColumns(width, ow, s, p, j);
                    for (int r = 0; r < oh; r++)
                    {
                        Span<T> d = dst.Slice(r * ow, ow);
                        int ih = r * s - p + i;
                        if ((uint)ih >= (uint)height || hi <= lo)
                        {
                            d.Clear();
                            continue;
                        }
                        d[..lo].Clear();
                        d[hi..].Clear();
                        ReadOnlySpan<T> src = image.Slice(ih * width, width);
                        if (s == 1) src.Slice(lo - p + j, hi - lo).CopyTo(d[lo..hi]);
                        else
                        {
                            for (int o = lo; o < hi; o++) d[o] = src[o * s - p + j];
                        }
                    }
                }
            }
        }
    }

    /// <summary>x += col2im(cols): every entry of cols (C·k·k, Ho·Wo) is added back to the pixel it was copied from (overlaps sum).</summary>
    public static void Fold<T>(ReadOnlySpan<T> cols, int channels, int height, int width, int kernelSize, int stride, int padding, Span<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = kernelSize, s = stride, p = padding;
        int oh = OutputSize(height, k, s, p), ow = OutputSize(width, k, s, p), plane = oh * ow;
        Debug.Assert(x.Length >= channels * height * width && cols.Length >= channels * k * k * plane && oh > 0 && ow > 0);
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            Span<T> image = x.Slice(c * height * width, height * width);
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < k; j++, row++)
                {
                    ReadOnlySpan<T> src = cols.Slice(row * plane, plane);
                    (int lo, int hi) = ValidColumns(width, ow, s, p, j);
                    if (hi <= lo) continue;
                    for (int r = 0; r < oh; r++)
                    {
                        int ih = r * s - p + i;
                        if ((uint)ih >= (uint)height) continue;
                        ReadOnlySpan<T> d = src.Slice(r * ow, ow);
                        Span<T> dst = image.Slice(ih * width, width);
                        if (s == 1)
                        {
                            // Rows are short (Wo values): a plain loop beats a library call per row.
                            Span<T> target = dst.Slice(lo - p + j, hi - lo);
                            ReadOnlySpan<T> add = d[lo..hi];
                            for (int t = 0; t < target.Length; t++) target[t] += add[t];
                        }
                        else
                        {
                            for (int o = lo; o < hi; o++) dst[o * s - p + j] += d[o];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output columns ow whose input column ow·s − p + j lies in [0, width): [lo, hi), empty when hi ≤ lo.</summary>
    private static (int Lo, int Hi) ValidColumns(int width, int ow, int s, int p, int j)
    {
        int first = p - j;               // need ow·s ≥ p − j
        int lo = first <= 0 ? 0 : (first + s - 1) / s;
        int last = width - 1 + p - j;    // need ow·s ≤ width − 1 + p − j
        int hi = last < 0 ? 0 : Math.Min(ow, last / s + 1);
        return (lo, hi);
    }
}
