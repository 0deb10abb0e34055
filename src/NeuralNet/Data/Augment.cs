using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>Data augmentation applied to a gathered mini-batch in place (never to the data set itself).</summary>
public static class Augment
{
    /// <summary>
    /// Translates every image of an NCHW batch (N, C, H, W) by an independent random offset in
    /// [−<paramref name="maxShift"/>, <paramref name="maxShift"/>]² pixels, filling the uncovered border with zeros.
    /// Small shifts teach a classifier that a digit's position does not matter. Allocates nothing.
    /// </summary>
    public static void RandomShift<T>(Tensor<T> batch, int maxShift, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch.Rank != 4) throw new ShapeMismatchException($"Augment.RandomShift: batch {batch.Shape} must be NCHW (N, C, H, W).");
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        int n = batch.Shape[0], c = batch.Shape[1], h = batch.Shape[2], w = batch.Shape[3];
        Span<T> plane = h * w <= 4096 ? stackalloc T[h * w] : new T[h * w];
        var data = batch.Span;
        for (int i = 0; i < n; i++)
        {
            int dy = rng.NextInt(2 * maxShift + 1) - maxShift;
            int dx = rng.NextInt(2 * maxShift + 1) - maxShift;
            if (dx == 0 && dy == 0) continue;
            for (int ch = 0; ch < c; ch++)
            {
                var image = data.Slice((i * c + ch) * h * w, h * w);
                image.CopyTo(plane);
                image.Clear();
                // out[y, x] = in[y − dy, x − dx]
                for (int y = Math.Max(0, dy); y < Math.Min(h, h + dy); y++)
                {
                    int x0 = Math.Max(0, dx), x1 = Math.Min(w, w + dx);
                    plane.Slice((y - dy) * w + (x0 - dx), x1 - x0).CopyTo(image.Slice(y * w + x0, x1 - x0));
                }
            }
        }
    }
}
