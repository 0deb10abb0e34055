using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// A stride-1 convolution of one zero-padded image as a GEMM whose B operand is read straight from the image, with no
/// packing. The output is computed over the padded width: position q = oh·Wp + ow for ow &lt; Wp, not only ow &lt; Wo, so
/// the patch row of window entry kk = (c, i, j) over NR consecutive positions is the NR consecutive values
/// <c>x[kOff[kk] + q … + NR)</c>, kOff[kk] = c·Hp·Wp + i·Wp + j, which the micro-kernel loads as it goes. The
/// Wp − Wo extra columns per output row (2 of 16 for a 3×3 "same" convolution on 14×14) are computed and dropped:
/// that waste replaces packing every patch row of every sample (15–25 % of the packed convolution's time).
/// <code>
///   T (M, Ho·Wp) = A (M, K) · B,  B[kk, q] = x[kOff[kk] + q],   then  y[m, oh·Wo + ow] = T[m, oh·Wp + ow]
/// </code>
/// A (the weights) is packed once per call, shared by every sample and thread. The k-blocks, the micro-kernel's sums
/// and the order they are added in are those of <see cref="GemmCore"/>, so the bytes equal the packed path's.
/// </summary>
internal static unsafe class Conv2dDirect
{
    /// <summary>
    /// True when the direct form runs: float, 256- or 512-bit kernels, stride 1, an inner dimension
    /// <paramref name="k"/> of at least 16, and the padded width costing at most a fifth more positions than the packed
    /// form (after rounding both up to whole strips). With fewer than 16 products per output the intermediate's fill
    /// and compaction outweigh the packing they save (1→32 3×3 forward on 28×28, batch 128, Zen 4: 1.59 ms direct,
    /// 0.93 ms packed; 1→16 5×5, K = 25: 0.58 vs 0.65; 4→16 3×3, K = 36: 1.07 vs 1.32).
    /// </summary>
    public static bool Applies<T>(SimdLevel level, int stride, int kernel, int k, int outHeight, int outWidth, int paddedWidth) where T : unmanaged
    {
        if (typeof(T) != typeof(float) || level == SimdLevel.Scalar || stride != 1 || k < 16 || !Vector256.IsHardwareAccelerated) return false;
        if (level == SimdLevel.Vector256 && !Fma.IsSupported) return false;
        int nr = GemmMicroKernel.NR<float>(level);
        if (kernel - 1 + nr > GemmBuffers<float>.Slack) return false; // reads past an image stay in the buffer's slack
        long direct = RoundUp((long)outHeight * paddedWidth, nr), packed = RoundUp((long)outHeight * outWidth, nr);
        return direct * 5 <= packed * 6;
    }

    /// <summary>Columns of the intermediate T for <paramref name="outHeight"/> rows of <paramref name="paddedWidth"/>: whole strips.</summary>
    public static int GridColumns(SimdLevel level, int outHeight, int paddedWidth) =>
        (int)RoundUp((long)outHeight * paddedWidth, GemmMicroKernel.NR<float>(level));

    /// <summary>Rows of the intermediate T: whole MR-row strips.</summary>
    public static int GridRows(SimdLevel level, int m) => (int)RoundUp(m, GemmMicroKernel.MR(level));

    /// <summary>Length of the packed A of <see cref="PackWeights"/>.</summary>
    public static long PackedLength(SimdLevel level, int m, int k) => RoundUp(m, GemmMicroKernel.MR(level)) * (long)k;

    /// <summary>
    /// Packs A (M, K), row stride K, block by block: the k-block starting at pc holds MR-row strips of kc values at
    /// dst + pc·Mpad, strip ir at + ir·kc (Mpad = M rounded up to MR, rows past M zero).
    /// </summary>
    public static void PackWeights(SimdLevel level, float* a, int m, int k, float* dst)
    {
        int mr = GemmMicroKernel.MR(level), mPad = (int)RoundUp(m, mr);
        int kcEven = KBlock(level, k);
        for (int pc = 0; pc < k; pc += kcEven)
        {
            int kc = Math.Min(kcEven, k - pc);
            GemmPacking.PackA(false, a, k, 0, pc, m, kc, mr, dst + (long)pc * mPad);
        }
    }

    /// <summary>
    /// out (M, Ho·Wo) = the valid columns of A·B for one image (see the class summary), plus <paramref name="bias"/>
    /// (M values, or null). <paramref name="grid"/> holds GridRows × GridColumns floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(SimdLevel level, float* packedA, int m, int k, float* image, int* kOff,
        int outHeight, int outWidth, int paddedWidth, float* bias, float* grid, float* output)
    {
        int mr = GemmMicroKernel.MR(level), nr = GemmMicroKernel.NR<float>(level);
        int mPad = (int)RoundUp(m, mr), cols = GridColumns(level, outHeight, paddedWidth);
        for (int i = 0; i < mPad; i++) new Span<float>(grid + (long)i * cols, cols).Fill(bias is null || i >= m ? 0f : bias[i]);
        int kcEven = KBlock(level, k);
        for (int pc = 0; pc < k; pc += kcEven)
        {
            int kc = Math.Min(kcEven, k - pc);
            float* aBlock = packedA + (long)pc * mPad;
            int* kBlock = kOff + pc;
            for (int jr = 0; jr < cols; jr += nr)
            {
                float* b = image + jr;
                float* cColumn = grid + jr;
                for (int ir = 0; ir < mPad; ir += mr)
                {
                    if (level == SimdLevel.Vector512) Float12x32(kc, aBlock + (long)ir * kc, b, kBlock, cColumn + (long)ir * cols, cols);
                    else Float6x16(kc, aBlock + (long)ir * kc, b, kBlock, cColumn + (long)ir * cols, cols);
                }
            }
        }
        long rowBytes = (long)outWidth * sizeof(float);
        for (int i = 0; i < m; i++)
        {
            float* src = grid + (long)i * cols, dst = output + (long)i * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++) Buffer.MemoryCopy(src + (long)oh * paddedWidth, dst + (long)oh * outWidth, rowBytes, rowBytes);
        }
    }

    /// <summary>GemmCore's k-blocks: K cut evenly into blocks of at most KC.</summary>
    private static int KBlock(SimdLevel level, int k)
    {
        int kcMax = GemmBlocking.For<float>(level).KC;
        int kBlocks = (k + kcMax - 1) / kcMax;
        return (k + kBlocks - 1) / kBlocks;
    }

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>C[0..6, 0..16) += Σₚ a[p]·x[kOff[p] .. + 16): <see cref="GemmMicroKernel"/>'s 6×16 kernel with B read in place.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float6x16(int kc, float* a, float* x, int* kOff, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            float* b = x + kOff[p];
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(ai, b0, c00); c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(ai, b0, c10); c11 = Fma.MultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(ai, b0, c20); c21 = Fma.MultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(ai, b0, c30); c31 = Fma.MultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(ai, b0, c40); c41 = Fma.MultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(ai, b0, c50); c51 = Fma.MultiplyAdd(ai, b1, c51);
            a += 6;
        }
        Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21);
        Add(c + 3 * ldc, c30, c31); Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51);

        static void Add(float* row, Vector256<float> lo, Vector256<float> hi)
        {
            (Vector256.Load(row) + lo).Store(row);
            (Vector256.Load(row + 8) + hi).Store(row + 8);
        }
    }

    /// <summary>C[0..12, 0..32) += Σₚ a[p]·x[kOff[p] .. + 32): the 12×32 kernel with B read in place.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float12x32(int kc, float* a, float* x, int* kOff, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        for (int p = 0; p < kc; p++)
        {
            float* b = x + kOff[p];
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ai = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(ai, b0, c00); c01 = Avx512F.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(ai, b0, c10); c11 = Avx512F.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(ai, b0, c20); c21 = Avx512F.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(ai, b0, c30); c31 = Avx512F.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(ai, b0, c40); c41 = Avx512F.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(ai, b0, c50); c51 = Avx512F.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(ai, b0, c60); c61 = Avx512F.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(ai, b0, c70); c71 = Avx512F.FusedMultiplyAdd(ai, b1, c71);
            ai = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(ai, b0, c80); c81 = Avx512F.FusedMultiplyAdd(ai, b1, c81);
            ai = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(ai, b0, c90); c91 = Avx512F.FusedMultiplyAdd(ai, b1, c91);
            ai = Vector512.Create(a[10]); cA0 = Avx512F.FusedMultiplyAdd(ai, b0, cA0); cA1 = Avx512F.FusedMultiplyAdd(ai, b1, cA1);
            ai = Vector512.Create(a[11]); cB0 = Avx512F.FusedMultiplyAdd(ai, b0, cB0); cB1 = Avx512F.FusedMultiplyAdd(ai, b1, cB1);
            a += 12;
        }
        Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21);
        Add(c + 3 * ldc, c30, c31); Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51);
        Add(c + 6 * ldc, c60, c61); Add(c + 7 * ldc, c70, c71); Add(c + 8 * ldc, c80, c81);
        Add(c + 9 * ldc, c90, c91); Add(c + 10 * ldc, cA0, cA1); Add(c + 11 * ldc, cB0, cB1);

        static void Add(float* row, Vector512<float> lo, Vector512<float> hi)
        {
            (Vector512.Load(row) + lo).Store(row);
            (Vector512.Load(row + 16) + hi).Store(row + 16);
        }
    }
}
