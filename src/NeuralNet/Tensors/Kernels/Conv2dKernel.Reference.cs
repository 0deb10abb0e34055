using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The specification of <see cref="Conv2dKernel{T}"/>: the convolution and its gradients as plain loops over every
/// index, straight from y[n,o,oh,ow] = b[o] + Σ_c,i,j W[o,c,i,j]·x[n,c,oh·s−p+i,ow·s−p+j]. Slow on purpose.
/// </summary>
internal static class Conv2dReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int c, int h, int w, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias,
        int o, int k, int s, int p, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = Im2Col.OutputSize(h, k, s, p), ow = Im2Col.OutputSize(w, k, s, p);
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int r = 0; r < oh; r++)
                    for (int q = 0; q < ow; q++)
                    {
                        T sum = bias.IsEmpty ? T.Zero : bias[oc];
                        for (int ic = 0; ic < c; ic++)
                            for (int i = 0; i < k; i++)
                                for (int j = 0; j < k; j++)
                                {
                                    int ih = r * s - p + i, iw = q * s - p + j;
                                    if ((uint)ih < (uint)h && (uint)iw < (uint)w)
                                        sum += weight[((oc * c + ic) * k + i) * k + j] * x[((b * c + ic) * h + ih) * w + iw];
                                }
                        y[((b * o + oc) * oh + r) * ow + q] = sum;
                    }
    }

    /// <summary>dW += Σ G·x-patch, db += Σ G, dx = Σ G·W over every window that saw the pixel (dx overwritten).</summary>
    public static void Backward<T>(ReadOnlySpan<T> x, int n, int c, int h, int w, ReadOnlySpan<T> weight, ReadOnlySpan<T> gradOutput,
        int o, int k, int s, int p, Span<T> weightGrad, Span<T> biasGrad, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = Im2Col.OutputSize(h, k, s, p), ow = Im2Col.OutputSize(w, k, s, p);
        if (!dx.IsEmpty) dx.Clear();
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int r = 0; r < oh; r++)
                    for (int q = 0; q < ow; q++)
                    {
                        T g = gradOutput[((b * o + oc) * oh + r) * ow + q];
                        if (!biasGrad.IsEmpty) biasGrad[oc] += g;
                        for (int ic = 0; ic < c; ic++)
                            for (int i = 0; i < k; i++)
                                for (int j = 0; j < k; j++)
                                {
                                    int ih = r * s - p + i, iw = q * s - p + j;
                                    if ((uint)ih >= (uint)h || (uint)iw >= (uint)w) continue;
                                    int wi = ((oc * c + ic) * k + i) * k + j, xi = ((b * c + ic) * h + ih) * w + iw;
                                    weightGrad[wi] += g * x[xi];
                                    if (!dx.IsEmpty) dx[xi] += g * weight[wi];
                                }
                    }
    }
}
