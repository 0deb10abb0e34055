using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace NeuralNet.Tensors;

/// <summary>Helpers for the image layers' (N, C, H, W) buffers.</summary>
internal static class Nchw
{
    /// <summary>
    /// True when <paramref name="t"/> already has shape (n, c, h, w). Checked extent by extent, so a steady-state step
    /// that reuses its buffer builds no <see cref="Shape"/> (whose constructor allocates).
    /// </summary>
    public static bool Matches<T>([NotNullWhen(true)] Tensor<T>? t, int n, int c, int h, int w) where T : unmanaged, IFloatingPointIeee754<T> =>
        t is not null && t.Rank == 4 && t.Shape[0] == n && t.Shape[1] == c && t.Shape[2] == h && t.Shape[3] == w;
}
