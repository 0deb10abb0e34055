using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// A stride-1 convolution of one zero-padded image as a GEMM computed transposed, with the image read in place and
/// only the weights packed (once per call, shared by every sample and thread):
/// <code>
///   Tᵀ[q, o] = Σ_kk x[qOff[q] + kOff[kk]] · W[o, kk]        q = oh·Wo + ow,  qOff[q] = oh·Wp + ow,  kOff[kk] = c·Hp·Wp + i·Wp + j
///   y[o, q]  = Tᵀ[q, o]
/// </code>
/// A register tile is MR output positions × NR output channels: each k step loads NR weights (W's column kk, packed
/// as NR-wide strips) and broadcasts one image value per position from MR pointers into the image. Positions run
/// over the real outputs only, across row ends, so nothing is computed twice or dropped, and the channel counts of
/// a CNN (16, 32, 64) fill whole strips; the packed GEMM instead packs K·P patch values per sample, and the
/// padded-width alternative computes the Wp − Wo border columns for nothing. Tiles: 6×16 at 256 bits (12
/// accumulators), 8×32 at 512 bits (16; eight pointers fit the general registers). Tᵀ (positions × channels) is
/// transposed into y in 8×8 register blocks at the end of each sample.
/// The k-blocks, each element's products and the order the blocks are added in (bias first) are those of
/// <see cref="GemmCore"/>, so the bytes equal the packed path's.
/// </summary>
internal static unsafe class Conv2dDirect
{
    /// <summary>
    /// True when the direct form runs: float, 256-bit kernels with FMA or 512-bit ones, stride 1, an inner dimension
    /// <paramref name="k"/> of at least 16, and <paramref name="m"/> output channels filling NR-wide strips to at least
    /// four fifths. With fewer products per output the fill and transposition of Tᵀ outweigh the packing they save,
    /// and thin strips multiply zeros (batch 128 on Zen 4: 1→32 3×3 forward on 28×28, K = 9, 0.96 ms either way;
    /// the input gradient of 4→16 3×3, M = 4, 2.68 ms direct vs 2.40 packed; 32→64 3×3 on 14×14 forward 5.06 vs
    /// 6.04, input gradient 4.90 vs 7.32; 16→32 5×5 on 12×12 forward 1.14 vs 1.69).
    /// </summary>
    public static bool Applies<T>(SimdLevel level, int stride, int m, int k) where T : unmanaged =>
        typeof(T) == typeof(float) && stride == 1 && k >= 16 && FillsTiles(level, m) && Vector256.IsHardwareAccelerated &&
        (level == SimdLevel.Vector512 || (level == SimdLevel.Vector256 && Fma.IsSupported));

    /// <summary>True when <paramref name="channels"/> fill NR-wide tiles to at least four fifths.</summary>
    public static bool FillsTiles(SimdLevel level, int channels) => RoundUp(channels, NR(level)) * 4 <= channels * 5L;

    public static int MR(SimdLevel level) => level == SimdLevel.Vector512 ? 8 : 6;

    public static int NR(SimdLevel level) => level == SimdLevel.Vector512 ? 32 : 16;

    /// <summary>Floats of Tᵀ for one sample: P rounded up to MR rows of M rounded up to NR.</summary>
    public static long GridLength(SimdLevel level, int m, int positions) => RoundUp(positions, MR(level)) * RoundUp(m, NR(level));

    /// <summary>Floats of the packed weights of <see cref="PackWeights"/>.</summary>
    public static long PackedLength(SimdLevel level, int m, int k) => RoundUp(m, NR(level)) * (long)k;

    /// <summary>
    /// Packs Wᵀ (K, M) from W (M, K), row stride K, block by block: the k-block starting at pc holds NR-wide strips of
    /// kc rows at dst + pc·Mpad, strip jr at + jr·kc (Mpad = M rounded up to NR, columns past M zero).
    /// </summary>
    public static void PackWeights(SimdLevel level, float* w, int m, int k, float* dst)
    {
        int nr = NR(level), mPad = (int)RoundUp(m, nr);
        int kcEven = KBlock(level, k);
        for (int pc = 0; pc < k; pc += kcEven)
        {
            int kc = Math.Min(kcEven, k - pc);
            GemmPacking.PackB(true, w, k, pc, 0, kc, m, nr, dst + (long)pc * mPad);
        }
    }

    /// <summary>
    /// out (M, P) = W·patches(image) + bias for one image (see the class summary); <paramref name="qOff"/> has P
    /// entries, <paramref name="kOff"/> K; <paramref name="bias"/> is M values or null; <paramref name="grid"/> holds
    /// <see cref="GridLength"/> floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(SimdLevel level, float* packedW, int m, int k, float* image, int* kOff, int* qOff, int positions,
        float* bias, float* grid, float* output)
    {
        int mr = MR(level), nr = NR(level);
        int mPad = (int)RoundUp(m, nr), pPad = (int)RoundUp(positions, mr);
        for (int q = 0; q < pPad; q++)
        {
            float* row = grid + (long)q * mPad;
            if (bias is null) new Span<float>(row, mPad).Clear();
            else
            {
                new Span<float>(bias, m).CopyTo(new Span<float>(row, m));
                new Span<float>(row + m, mPad - m).Clear();
            }
        }
        float** x = stackalloc float*[8];
        int kcEven = KBlock(level, k);
        for (int pc = 0; pc < k; pc += kcEven)
        {
            int kc = Math.Min(kcEven, k - pc);
            float* wBlock = packedW + (long)pc * mPad;
            int* kBlock = kOff + pc;
            for (int jr = 0; jr < mPad; jr += nr)
            {
                float* b = wBlock + (long)jr * kc;
                for (int ir = 0; ir < pPad; ir += mr)
                {
                    // Positions past P repeat the last one (valid memory); their rows of Tᵀ are dropped.
                    for (int i = 0; i < mr; i++) x[i] = image + qOff[Math.Min(ir + i, positions - 1)];
                    Tile(level, kc, b, kBlock, x, grid + (long)ir * mPad + jr, mPad);
                }
            }
        }
        TransposeOut(grid, mPad, m, positions, output);
    }

    /// <summary>out[o, q] = grid[q, o] for o &lt; M, q &lt; P: 8×8 blocks through registers, the edges one by one.</summary>
    private static void TransposeOut(float* grid, int ld, int m, int positions, float* output)
    {
        int o8 = m / 8 * 8, q8 = positions / 8 * 8;
        for (int o = 0; o < o8; o += 8)
        {
            for (int q = 0; q < q8; q += 8)
            {
                GemmPacking.Transpose8x8(grid + (long)q * ld + o, ld, 8, output + (long)o * positions + q, positions);
            }
            for (int q = q8; q < positions; q++)
                for (int j = 0; j < 8; j++) output[(long)(o + j) * positions + q] = grid[(long)q * ld + o + j];
        }
        for (int o = o8; o < m; o++)
            for (int q = 0; q < positions; q++) output[(long)o * positions + q] = grid[(long)q * ld + o];
    }

    /// <summary>GemmCore's k-blocks.</summary>
    private static int KBlock(SimdLevel level, int k) => GemmBlocking.For<float>(level).EvenKC(k);

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;


    /// <summary>
    /// One register tile: C[i, 0..NR) += Σ_{p &lt; kc} x[i][offsets[p]]·b[p, 0..NR) for i &lt; MR, b packed NR-wide (kc rows),
    /// x MR pointers. The weight gradient runs the same tiles with offsets over output positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Tile(SimdLevel level, int kc, float* b, int* offsets, float** x, float* c, int ldc)
    {
        if (level == SimdLevel.Vector512) Float8x32(kc, b, offsets, x, c, ldc);
        else Float6x16(kc, b, offsets, x, c, ldc);
    }

    /// <summary>
    /// C[i, 0..16) += Σₚ x[i][kOff[p]]·b[p, 0..16) for <paramref name="rows"/> (1 or 2) rows, with <see cref="Float6x16"/>'s
    /// products in its order: the last strip of a product whose rows leave one or two over (128 = 21·6 + 2) is not
    /// multiplied six times for two rows' worth.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Float2x16(int kc, float* b, int* kOff, float* x0, float* x1, float* c, int ldc, int rows)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            int off = kOff[p];
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(x0[off]); c00 = Fma.MultiplyAdd(ai, b0, c00); c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(x1[off]); c10 = Fma.MultiplyAdd(ai, b0, c10); c11 = Fma.MultiplyAdd(ai, b1, c11);
            b += 16;
        }
        (Vector256.Load(c) + c00).Store(c);
        (Vector256.Load(c + 8) + c01).Store(c + 8);
        if (rows < 2) return;
        (Vector256.Load(c + ldc) + c10).Store(c + ldc);
        (Vector256.Load(c + ldc + 8) + c11).Store(c + ldc + 8);
    }

    /// <summary>C[i, 0..16) += Σₚ x[i][kOff[p]]·b[p, 0..16) for the 6 positions i: 12 accumulators.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float6x16(int kc, float* b, int* kOff, float** x, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5];
        for (int p = 0; p < kc; p++)
        {
            int off = kOff[p];
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(x0[off]); c00 = Fma.MultiplyAdd(ai, b0, c00); c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(x1[off]); c10 = Fma.MultiplyAdd(ai, b0, c10); c11 = Fma.MultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(x2[off]); c20 = Fma.MultiplyAdd(ai, b0, c20); c21 = Fma.MultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(x3[off]); c30 = Fma.MultiplyAdd(ai, b0, c30); c31 = Fma.MultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(x4[off]); c40 = Fma.MultiplyAdd(ai, b0, c40); c41 = Fma.MultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(x5[off]); c50 = Fma.MultiplyAdd(ai, b0, c50); c51 = Fma.MultiplyAdd(ai, b1, c51);
            b += 16;
        }
        Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21);
        Add(c + 3 * ldc, c30, c31); Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51);

        static void Add(float* row, Vector256<float> lo, Vector256<float> hi)
        {
            (Vector256.Load(row) + lo).Store(row);
            (Vector256.Load(row + 8) + hi).Store(row + 8);
        }
    }

    /// <summary>C[i, 0..32) += Σₚ x[i][kOff[p]]·b[p, 0..32) for the 8 positions i: 16 accumulators.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float8x32(int kc, float* b, int* kOff, float** x, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
        for (int p = 0; p < kc; p++)
        {
            int off = kOff[p];
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ai = Vector512.Create(x0[off]); c00 = Avx512F.FusedMultiplyAdd(ai, b0, c00); c01 = Avx512F.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(x1[off]); c10 = Avx512F.FusedMultiplyAdd(ai, b0, c10); c11 = Avx512F.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(x2[off]); c20 = Avx512F.FusedMultiplyAdd(ai, b0, c20); c21 = Avx512F.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(x3[off]); c30 = Avx512F.FusedMultiplyAdd(ai, b0, c30); c31 = Avx512F.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(x4[off]); c40 = Avx512F.FusedMultiplyAdd(ai, b0, c40); c41 = Avx512F.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(x5[off]); c50 = Avx512F.FusedMultiplyAdd(ai, b0, c50); c51 = Avx512F.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(x6[off]); c60 = Avx512F.FusedMultiplyAdd(ai, b0, c60); c61 = Avx512F.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(x7[off]); c70 = Avx512F.FusedMultiplyAdd(ai, b0, c70); c71 = Avx512F.FusedMultiplyAdd(ai, b1, c71);
            b += 32;
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
