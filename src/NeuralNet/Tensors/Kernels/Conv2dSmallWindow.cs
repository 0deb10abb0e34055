using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The forward pass of a stride-1 convolution with a small window (a first layer: 1×3×3, 1×5×5, 3×3×3), computed
/// directly instead of as a GEMM:
/// <code>
///   y[o, oh, ow … ow+8) = b[o] + Σ_kk W[o, kk] · xpad[kOff[kk] + oh·Wp + ow … +8)        kk = (c, i, j)
/// </code>
/// Eight output positions of one row are one vector; each window entry's input vector is loaded once and multiplied
/// into the accumulators of eight output channels. As a GEMM with only C·k·k ≤ 32 products per output, clearing and
/// re-reading the output and packing the patches cost more than the arithmetic. The last vector of a row starts at
/// Wo − 8 and recomputes a few outputs with the same result. Per output the products are added in the GEMM's order
/// (one k-block, window entries in order) and then to the bias (or zero), so the bytes equal the packed GEMM's.
/// </summary>
internal static unsafe class Conv2dSmallWindow
{
    /// <summary>True for float at 256 or 512 bits with FMA, stride 1, C·k·k ≤ 32, O a multiple of 8 and Wo ≥ 8.</summary>
    public static bool Applies<T>(SimdLevel level, int stride, int fieldSize, int outChannels, int outWidth) where T : unmanaged =>
        typeof(T) == typeof(float) && stride == 1 && fieldSize <= Conv2dWeightGradient.MaxFieldSize && outChannels % 8 == 0 &&
        outWidth >= 8 && level >= SimdLevel.Vector256 && Fma.IsSupported;

    /// <summary>y (O, Ho, Wo) of one padded image (C, Hp, Wp); <paramref name="bias"/> is O values or null.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* xpad, int* kOff, int field, float* weight, float* bias, int outChannels, int outHeight,
        int outWidth, int paddedWidth, float* y)
    {
        long plane = (long)outHeight * outWidth;
        for (int o0 = 0; o0 < outChannels; o0 += 8)
        {
            float* w = weight + (long)o0 * field;
            var b0 = Vector256.Create(bias is null ? 0f : bias[o0]); var b1 = Vector256.Create(bias is null ? 0f : bias[o0 + 1]);
            var b2 = Vector256.Create(bias is null ? 0f : bias[o0 + 2]); var b3 = Vector256.Create(bias is null ? 0f : bias[o0 + 3]);
            var b4 = Vector256.Create(bias is null ? 0f : bias[o0 + 4]); var b5 = Vector256.Create(bias is null ? 0f : bias[o0 + 5]);
            var b6 = Vector256.Create(bias is null ? 0f : bias[o0 + 6]); var b7 = Vector256.Create(bias is null ? 0f : bias[o0 + 7]);
            float* yo = y + o0 * plane;
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* row = xpad + (long)oh * paddedWidth;
                float* yr = yo + (long)oh * outWidth;
                for (int ow = 0; ow < outWidth; ow += 8)
                {
                    int at = Math.Min(ow, outWidth - 8);
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    float* x = row + at;
                    for (int kk = 0; kk < field; kk++)
                    {
                        var v = Vector256.Load(x + kOff[kk]);
                        float* wk = w + kk;
                        a0 = Fma.MultiplyAdd(Vector256.Create(wk[0]), v, a0);
                        a1 = Fma.MultiplyAdd(Vector256.Create(wk[field]), v, a1);
                        a2 = Fma.MultiplyAdd(Vector256.Create(wk[2 * field]), v, a2);
                        a3 = Fma.MultiplyAdd(Vector256.Create(wk[3 * field]), v, a3);
                        a4 = Fma.MultiplyAdd(Vector256.Create(wk[4 * field]), v, a4);
                        a5 = Fma.MultiplyAdd(Vector256.Create(wk[5 * field]), v, a5);
                        a6 = Fma.MultiplyAdd(Vector256.Create(wk[6 * field]), v, a6);
                        a7 = Fma.MultiplyAdd(Vector256.Create(wk[7 * field]), v, a7);
                    }
                    float* d = yr + at;
                    (a0 + b0).Store(d); (a1 + b1).Store(d + plane); (a2 + b2).Store(d + 2 * plane); (a3 + b3).Store(d + 3 * plane);
                    (a4 + b4).Store(d + 4 * plane); (a5 + b5).Store(d + 5 * plane); (a6 + b6).Store(d + 6 * plane); (a7 + b7).Store(d + 7 * plane);
                }
            }
        }
    }
}
