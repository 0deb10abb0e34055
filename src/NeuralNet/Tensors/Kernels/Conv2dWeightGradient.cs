using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The weight gradient of a stride-1 convolution with a small window (a first layer: 1×3×3, 1×5×5, 3×3×3), computed
/// directly instead of as a GEMM:
/// <code>
///   dW[o, c, i, j] = Σₙ Σ_{y,x} G[n, o, y, x] · xpad[n, c, y + i, x + j]
/// </code>
/// As a GEMM this is (O, n·P)·(n·P, C·k·k) with an output only C·k·k wide: packing both operands costs more than the
/// arithmetic, and the GEMM ran at a sixth of the machine's peak for a 1→32 3×3 layer. Here each vector of a gradient
/// row is loaded once and multiplied with the input row shifted by each of up to nine window offsets, into nine
/// accumulators. The last vector of a row is loaded ending at the row's end (overlapping the one before) with the
/// lanes already counted masked off, so nothing is read outside either tensor. Float only (double takes the GEMM).
/// The sums over samples run in sample order within the caller's chunk, so results do not depend on the thread count.
/// </summary>
internal static unsafe class Conv2dWeightGradient
{
    /// <summary>Window sizes C·k·k up to this take the direct form (the GEMM wins for wider windows).</summary>
    public const int MaxFieldSize = 32;

    private const int Group = 9; // window offsets per pass: nine accumulators, a gradient vector and an input vector

    /// <summary>True when the direct form serves this geometry at this level.</summary>
    public static bool Applies<T>(SimdLevel level, int stride, int fieldSize, int outWidth) =>
        typeof(T) == typeof(float) && stride == 1 && fieldSize <= MaxFieldSize && level switch
        {
            SimdLevel.Vector512 => outWidth >= Vector512<float>.Count,
            SimdLevel.Vector256 => outWidth >= Vector256<float>.Count,
            _ => false,
        };

    /// <summary>
    /// dw (O, C·k·k) = Σ over <paramref name="count"/> samples of g (count, O, Ho, Wo) correlated with xpad
    /// (count, C, Hp, Wp), the zero-padded inputs. dw is overwritten.
    /// </summary>
    public static void Run(SimdLevel level, float* g, float* xpad, int count, int channels, int outChannels, int k,
        int oh, int ow, int hp, int wp, float* dw)
    {
        if (level == SimdLevel.Vector512) Run512(g, xpad, count, channels, outChannels, k, oh, ow, hp, wp, dw);
        else Run256(g, xpad, count, channels, outChannels, k, oh, ow, hp, wp, dw);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run256(float* g, float* xpad, int count, int channels, int outChannels, int k, int oh, int ow, int hp, int wp, float* dw)
    {
        const int vw = 8;
        int full = ow / vw, tail = ow - full * vw; // the last vector starts at ow − vw and keeps its top `tail` lanes
        var mask = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(vw - tail)).AsSingle();
        int kk = k * k, field = channels * kk;
        long gPlane = (long)oh * ow, gSample = outChannels * gPlane, xPlane = (long)hp * wp, xSample = channels * xPlane;
        int* off = stackalloc int[Group];
        for (int c = 0; c < channels; c++)
        {
            for (int r0 = 0; r0 < kk; r0 += Group)
            {
                int used = Math.Min(Group, kk - r0);
                for (int t = 0; t < Group; t++)
                {
                    int r = r0 + Math.Min(t, used - 1); // unused accumulators repeat the last offset and are dropped
                    off[t] = r / k * wp + r % k;
                }
                int f0 = off[0], f1 = off[1], f2 = off[2], f3 = off[3], f4 = off[4], f5 = off[5], f6 = off[6], f7 = off[7], f8 = off[8];
                for (int o = 0; o < outChannels; o++)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default,
                        a5 = default, a6 = default, a7 = default, a8 = default;
                    for (int n = 0; n < count; n++)
                    {
                        float* gp = g + n * gSample + o * gPlane;
                        float* xp = xpad + n * xSample + c * xPlane;
                        for (int y = 0; y < oh; y++)
                        {
                            float* gr = gp + (long)y * ow, xr = xp + (long)y * wp;
                            for (int v = 0; v <= full; v++)
                            {
                                int at = v * vw;
                                Vector256<float> gv;
                                if (v < full) gv = Avx.LoadVector256(gr + at);
                                else if (tail == 0) break;
                                else
                                {
                                    at = ow - vw;
                                    gv = Avx.LoadVector256(gr + at) & mask;
                                }
                                float* xv = xr + at;
                                a0 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f0), a0);
                                a1 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f1), a1);
                                a2 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f2), a2);
                                a3 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f3), a3);
                                a4 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f4), a4);
                                a5 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f5), a5);
                                a6 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f6), a6);
                                a7 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f7), a7);
                                a8 = Fma.MultiplyAdd(gv, Avx.LoadVector256(xv + f8), a8);
                            }
                        }
                    }
                    Store(dw + o * field + c * kk + r0, used,
                        Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3), Vector256.Sum(a4),
                        Vector256.Sum(a5), Vector256.Sum(a6), Vector256.Sum(a7), Vector256.Sum(a8));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run512(float* g, float* xpad, int count, int channels, int outChannels, int k, int oh, int ow, int hp, int wp, float* dw)
    {
        const int vw = 16;
        int full = ow / vw, tail = ow - full * vw;
        var mask = Vector512.GreaterThanOrEqual(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            Vector512.Create(vw - tail)).AsSingle();
        int kk = k * k, field = channels * kk;
        long gPlane = (long)oh * ow, gSample = outChannels * gPlane, xPlane = (long)hp * wp, xSample = channels * xPlane;
        int* off = stackalloc int[Group];
        for (int c = 0; c < channels; c++)
        {
            for (int r0 = 0; r0 < kk; r0 += Group)
            {
                int used = Math.Min(Group, kk - r0);
                for (int t = 0; t < Group; t++)
                {
                    int r = r0 + Math.Min(t, used - 1);
                    off[t] = r / k * wp + r % k;
                }
                int f0 = off[0], f1 = off[1], f2 = off[2], f3 = off[3], f4 = off[4], f5 = off[5], f6 = off[6], f7 = off[7], f8 = off[8];
                for (int o = 0; o < outChannels; o++)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default,
                        a5 = default, a6 = default, a7 = default, a8 = default;
                    for (int n = 0; n < count; n++)
                    {
                        float* gp = g + n * gSample + o * gPlane;
                        float* xp = xpad + n * xSample + c * xPlane;
                        for (int y = 0; y < oh; y++)
                        {
                            float* gr = gp + (long)y * ow, xr = xp + (long)y * wp;
                            for (int v = 0; v <= full; v++)
                            {
                                int at = v * vw;
                                Vector512<float> gv;
                                if (v < full) gv = Avx512F.LoadVector512(gr + at);
                                else if (tail == 0) break;
                                else
                                {
                                    at = ow - vw;
                                    gv = Avx512F.LoadVector512(gr + at) & mask;
                                }
                                float* xv = xr + at;
                                a0 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f0), a0);
                                a1 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f1), a1);
                                a2 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f2), a2);
                                a3 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f3), a3);
                                a4 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f4), a4);
                                a5 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f5), a5);
                                a6 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f6), a6);
                                a7 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f7), a7);
                                a8 = Avx512F.FusedMultiplyAdd(gv, Avx512F.LoadVector512(xv + f8), a8);
                            }
                        }
                    }
                    Store(dw + o * field + c * kk + r0, used,
                        Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3), Vector512.Sum(a4),
                        Vector512.Sum(a5), Vector512.Sum(a6), Vector512.Sum(a7), Vector512.Sum(a8));
                }
            }
        }
    }

    private static void Store(float* d, int used, float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7, float s8)
    {
        ReadOnlySpan<float> sums = [s0, s1, s2, s3, s4, s5, s6, s7, s8];
        sums[..used].CopyTo(new Span<float>(d, used));
    }
}
