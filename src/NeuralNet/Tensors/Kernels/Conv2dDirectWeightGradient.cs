using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The weight gradient of a stride-1 convolution with the image read in place. Transposed, it is a GEMM whose
/// "A" rows are rows of the zero-padded image:
/// <code>
///   dWᵀ[kk, o] += Σ_oh Σ_ow x[kOff[kk] + oh·Wp + ow] · G[o, oh·Wo + ow]        kk = (c, i, j), kOff[kk] = c·Hp·Wp + i·Wp + j
/// </code>
/// A register tile of MR window entries × NR output channels broadcasts one image value per entry (MR pointers
/// into the image, walked along the output rows, the padded columns skipped) and multiplies it into NR/W vectors
/// of Gᵀ, the only operand that is packed: P × NR strips, a transpose of G that is P·O values per sample instead
/// of the K·P of the patch matrix. Tiles: 6×16 at 256 bits (12 accumulators), 8×32 at 512 bits (16; eight
/// pointers fit the general registers). For one sample the sums run over (oh, ow) in order, so the result does
/// not depend on the thread count.
/// </summary>
internal static unsafe class Conv2dDirectWeightGradient
{
    /// <summary>True for float, stride 1, at 256 bits with FMA or at 512 bits.</summary>
    public static bool Applies<T>(SimdLevel level, int stride) where T : unmanaged =>
        typeof(T) == typeof(float) && stride == 1 && Vector256.IsHardwareAccelerated &&
        (level == SimdLevel.Vector512 || (level == SimdLevel.Vector256 && Fma.IsSupported));

    public static int MR(SimdLevel level) => level == SimdLevel.Vector512 ? 8 : 6;

    public static int NR(SimdLevel level) => level == SimdLevel.Vector512 ? 32 : 16;

    /// <summary>Floats of the transposed-gradient scratch for one sample: P · O rounded up to NR.</summary>
    public static long PackedLength(SimdLevel level, int channels, int positions) => (long)RoundUp(channels, NR(level)) * positions;

    /// <summary>Floats of the accumulator dWᵀ: K rounded up to MR rows of O rounded up to NR.</summary>
    public static long AccumulatorLength(SimdLevel level, int k, int channels) => (long)RoundUp(k, MR(level)) * RoundUp(channels, NR(level));

    /// <summary>
    /// acc (Kpad, Opad) += this sample's dWᵀ. <paramref name="image"/> is the padded image (C, Hp, Wp),
    /// <paramref name="g"/> its output gradient (O, Ho·Wo); <paramref name="packed"/> is scratch of
    /// <see cref="PackedLength"/> floats (aligned to 64 bytes, so the strips' vectors do not straddle cache lines).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(SimdLevel level, float* image, int* kOff, int k, float* g, int channels,
        int outHeight, int outWidth, int paddedWidth, float* packed, float* acc)
    {
        int mr = MR(level), nr = NR(level), positions = outHeight * outWidth;
        int oPad = RoundUp(channels, nr), kPad = RoundUp(k, mr);
        PackTransposed(g, channels, positions, nr, oPad, packed);
        int* offsets = stackalloc int[8];
        for (int jr = 0; jr < oPad; jr += nr)
        {
            float* strip = packed + (long)jr * positions;
            for (int ir = 0; ir < kPad; ir += mr)
            {
                // Entries past K read the last one's row (valid memory); their sums land in rows that are dropped.
                for (int i = 0; i < mr; i++) offsets[i] = kOff[Math.Min(ir + i, k - 1)];
                float* c = acc + (long)ir * oPad + jr;
                if (level == SimdLevel.Vector512) Float8x32(image, offsets, strip, outHeight, outWidth, paddedWidth, c, oPad);
                else Float6x16(image, offsets, strip, outHeight, outWidth, paddedWidth, c, oPad);
            }
        }
    }

    /// <summary>dW (O, K) = acc (Kpad, Opad)ᵀ restricted to K rows and O columns.</summary>
    public static void StoreTransposed(SimdLevel level, float* acc, int k, int channels, float* dw)
    {
        int oPad = RoundUp(channels, NR(level));
        for (int o = 0; o < channels; o++)
            for (int kk = 0; kk < k; kk++) dw[(long)o * k + kk] = acc[(long)kk * oPad + o];
    }

    /// <summary>
    /// dst[s·P·NR + q·NR + j] = G[s·NR + j, q] (zero for channels ≥ O): Gᵀ in NR-wide strips, 8×8 blocks transposed in
    /// registers.
    /// </summary>
    private static void PackTransposed(float* g, int channels, int positions, int nr, int oPad, float* dst)
    {
        for (int o0 = 0; o0 < oPad; o0 += 8)
        {
            float* strip = dst + (long)(o0 / nr * nr) * positions + o0 % nr;
            if (o0 + 8 <= channels)
            {
                float* r = g + (long)o0 * positions;
                int q = 0;
                for (; q + 8 <= positions; q += 8)
                {
                    GemmPacking.TransposeStore8x8(
                        Avx.LoadVector256(r + q), Avx.LoadVector256(r + positions + q),
                        Avx.LoadVector256(r + 2 * positions + q), Avx.LoadVector256(r + 3 * positions + q),
                        Avx.LoadVector256(r + 4 * positions + q), Avx.LoadVector256(r + 5 * positions + q),
                        Avx.LoadVector256(r + 6 * positions + q), Avx.LoadVector256(r + 7 * positions + q),
                        strip + (long)q * nr, nr);
                }
                for (; q < positions; q++)
                    for (int j = 0; j < 8; j++) strip[(long)q * nr + j] = r[(long)j * positions + q];
            }
            else
            {
                for (int q = 0; q < positions; q++)
                    for (int j = 0; j < 8; j++) strip[(long)q * nr + j] = o0 + j < channels ? g[(long)(o0 + j) * positions + q] : 0f;
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float6x16(float* image, int* offsets, float* b, int outHeight, int outWidth, int paddedWidth, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* x0 = image + offsets[0], x1 = image + offsets[1], x2 = image + offsets[2];
        float* x3 = image + offsets[3], x4 = image + offsets[4], x5 = image + offsets[5];
        for (int oh = 0; oh < outHeight; oh++)
        {
            int t = oh * paddedWidth, end = t + outWidth;
            for (; t < end; t++)
            {
                var b0 = Vector256.Load(b);
                var b1 = Vector256.Load(b + 8);
                var ai = Vector256.Create(x0[t]); c00 = Fma.MultiplyAdd(ai, b0, c00); c01 = Fma.MultiplyAdd(ai, b1, c01);
                ai = Vector256.Create(x1[t]); c10 = Fma.MultiplyAdd(ai, b0, c10); c11 = Fma.MultiplyAdd(ai, b1, c11);
                ai = Vector256.Create(x2[t]); c20 = Fma.MultiplyAdd(ai, b0, c20); c21 = Fma.MultiplyAdd(ai, b1, c21);
                ai = Vector256.Create(x3[t]); c30 = Fma.MultiplyAdd(ai, b0, c30); c31 = Fma.MultiplyAdd(ai, b1, c31);
                ai = Vector256.Create(x4[t]); c40 = Fma.MultiplyAdd(ai, b0, c40); c41 = Fma.MultiplyAdd(ai, b1, c41);
                ai = Vector256.Create(x5[t]); c50 = Fma.MultiplyAdd(ai, b0, c50); c51 = Fma.MultiplyAdd(ai, b1, c51);
                b += 16;
            }
        }
        Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21);
        Add(c + 3 * ldc, c30, c31); Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51);

        static void Add(float* row, Vector256<float> lo, Vector256<float> hi)
        {
            (Vector256.Load(row) + lo).Store(row);
            (Vector256.Load(row + 8) + hi).Store(row + 8);
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float8x32(float* image, int* offsets, float* b, int outHeight, int outWidth, int paddedWidth, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        float* x0 = image + offsets[0], x1 = image + offsets[1], x2 = image + offsets[2], x3 = image + offsets[3];
        float* x4 = image + offsets[4], x5 = image + offsets[5], x6 = image + offsets[6], x7 = image + offsets[7];
        for (int oh = 0; oh < outHeight; oh++)
        {
            int t = oh * paddedWidth, end = t + outWidth;
            for (; t < end; t++)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + 16);
                var ai = Vector512.Create(x0[t]); c00 = Avx512F.FusedMultiplyAdd(ai, b0, c00); c01 = Avx512F.FusedMultiplyAdd(ai, b1, c01);
                ai = Vector512.Create(x1[t]); c10 = Avx512F.FusedMultiplyAdd(ai, b0, c10); c11 = Avx512F.FusedMultiplyAdd(ai, b1, c11);
                ai = Vector512.Create(x2[t]); c20 = Avx512F.FusedMultiplyAdd(ai, b0, c20); c21 = Avx512F.FusedMultiplyAdd(ai, b1, c21);
                ai = Vector512.Create(x3[t]); c30 = Avx512F.FusedMultiplyAdd(ai, b0, c30); c31 = Avx512F.FusedMultiplyAdd(ai, b1, c31);
                ai = Vector512.Create(x4[t]); c40 = Avx512F.FusedMultiplyAdd(ai, b0, c40); c41 = Avx512F.FusedMultiplyAdd(ai, b1, c41);
                ai = Vector512.Create(x5[t]); c50 = Avx512F.FusedMultiplyAdd(ai, b0, c50); c51 = Avx512F.FusedMultiplyAdd(ai, b1, c51);
                ai = Vector512.Create(x6[t]); c60 = Avx512F.FusedMultiplyAdd(ai, b0, c60); c61 = Avx512F.FusedMultiplyAdd(ai, b1, c61);
                ai = Vector512.Create(x7[t]); c70 = Avx512F.FusedMultiplyAdd(ai, b0, c70); c71 = Avx512F.FusedMultiplyAdd(ai, b1, c71);
                b += 32;
            }
        }
        Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21); Add(c + 3 * ldc, c30, c31);
        Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51); Add(c + 6 * ldc, c60, c61); Add(c + 7 * ldc, c70, c71);

        static void Add(float* row, Vector512<float> lo, Vector512<float> hi)
        {
            (Vector512.Load(row) + lo).Store(row);
            (Vector512.Load(row + 16) + hi).Store(row + 16);
        }
    }
}
