using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Copies blocks of A and B into the layouts the micro-kernel reads sequentially.
/// Strips past the matrix edge are padded with zeros, so the kernel never branches on the edge.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[row0..row0+mc, col0..col0+kc) into MR-row strips: strip s holds, for each p in [0, kc),
    /// the MR values op(A)[row0 + s·MR + i, col0 + p], i = 0..MR-1, at dst[s·MR·kc + p·MR + i].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool transA, T* a, int lda, int row0, int col0, int mc, int kc, int mr, T* dst) where T : unmanaged
    {
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            T* strip = dst + (long)s * kc;
            if (transA)
            {
                // Stored k×m: for each p the MR values are contiguous.
                T* src = a + (long)col0 * lda + row0 + s;
                for (int p = 0; p < kc; p++, src += lda, strip += mr)
                {
                    int i = 0;
                    for (; i < rows; i++) strip[i] = src[i];
                    for (; i < mr; i++) strip[i] = default;
                }
            }
            else if (typeof(T) == typeof(float) && Avx.IsSupported && rows == mr && (mr == 6 || mr == 12))
            {
                PackRowsTransposed((float*)a + (long)(row0 + s) * lda + col0, lda, kc, mr, (float*)strip);
            }
            else
            {
                // Stored m×k: row i is contiguous along p; write it with stride MR.
                for (int i = 0; i < mr; i++)
                {
                    T* d = strip + i;
                    if (i < rows)
                    {
                        T* src = a + (long)(row0 + s + i) * lda + col0;
                        for (int p = 0; p < kc; p++) d[p * mr] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) d[p * mr] = default;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[row0..row0+kc, col0..col0+nc) into NR-column strips: strip s holds, for each p in [0, kc),
    /// the NR values op(B)[row0 + p, col0 + s·NR + j], j = 0..NR-1, at dst[s·NR·kc + p·NR + j].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(bool transB, T* b, int ldb, int row0, int col0, int kc, int nc, int nr, T* dst) where T : unmanaged
    {
        for (int s = 0; s < nc; s += nr)
        {
            int cols = Math.Min(nr, nc - s);
            T* strip = dst + (long)s * kc;
            if (!transB)
            {
                // Stored k×n: for each p the NR values are contiguous.
                T* src = b + (long)row0 * ldb + col0 + s;
                if (cols == nr && typeof(T) == typeof(float) && nr % 8 == 0 && Avx.IsSupported)
                {
                    // A row of a strip is one or a few vectors: copy them directly rather than call a memory copy per row.
                    float* from = (float*)src, to = (float*)strip;
                    for (int p = 0; p < kc; p++, from += ldb, to += nr)
                        for (int j = 0; j < nr; j += 8) Avx.Store(to + j, Avx.LoadVector256(from + j));
                }
                else if (cols == nr)
                {
                    long bytes = (long)nr * sizeof(T);
                    for (int p = 0; p < kc; p++, src += ldb, strip += nr)
                        System.Buffer.MemoryCopy(src, strip, bytes, bytes);
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb, strip += nr)
                    {
                        int j = 0;
                        for (; j < cols; j++) strip[j] = src[j];
                        for (; j < nr; j++) strip[j] = default;
                    }
                }
            }
            else if (typeof(T) == typeof(float) && Avx.IsSupported && cols == nr && nr % 8 == 0)
            {
                PackTransposedStrip((float*)b + (long)(col0 + s) * ldb + row0, ldb, kc, nr, (float*)strip);
            }
            else
            {
                // Stored n×k: column j of op(B) is row j of storage, contiguous along p; write it with stride NR.
                for (int j = 0; j < nr; j++)
                {
                    T* d = strip + j;
                    if (j < cols)
                    {
                        T* src = b + (long)(col0 + s + j) * ldb + row0;
                        for (int p = 0; p < kc; p++) d[p * nr] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) d[p * nr] = default;
                    }
                }
            }
        }
    }

    /// <summary>
    /// A full float A strip from row-major storage, 8 values of p at a time: dst[p·mr + i] = src[i·lda + p] for
    /// i &lt; mr (6 or 12), p &lt; kc. Stores are whole 8-float vectors, so a group of fewer than 8 rows spills into what
    /// follows; that is written later or is the buffers' slack.
    /// </summary>
    private static void PackRowsTransposed(float* src, int lda, int kc, int mr, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            // Higher rows first: with MR = 12 the store of rows 8..11 spills into the next p's rows 0..3, which the
            // store of rows 0..7 then writes.
            for (int group = (mr - 1) / 8 * 8; group >= 0; group -= 8)
                Transpose8x8(src + (long)group * lda + p, lda, Math.Min(8, mr - group), dst + (long)p * mr + group, mr);
        }
        for (; p < kc; p++)
            for (int i = 0; i < mr; i++) dst[(long)p * mr + i] = src[(long)i * lda + p];
    }

    /// <summary>
    /// The transposed float B strip, 8×8 blocks at a time: dst[p·nr + j] = src[j·ldb + p] for j &lt; nr (a multiple of
    /// 8), p &lt; kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposedStrip(float* src, int ldb, int kc, int nr, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int group = 0; group < nr / 8; group++)
                Transpose8x8(src + (long)group * 8 * ldb + p, ldb, 8, dst + (long)p * nr + group * 8, nr);
        }
        for (; p < kc; p++)
            for (int j = 0; j < nr; j++) dst[(long)p * nr + j] = src[(long)j * ldb + p];
    }

    /// <summary>
    /// d[q·dstStride + i] = r[i·ld + q] for q &lt; 8 and i &lt; 8: eight rows of 8 floats (rows past
    /// <paramref name="rows"/> read as zeros) transposed in registers, each column stored as one vector, in increasing q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* r, long ld, int rows, float* d, int dstStride) =>
        TransposeStore8x8(
            Avx.LoadVector256(r),
            rows > 1 ? Avx.LoadVector256(r + ld) : default,
            rows > 2 ? Avx.LoadVector256(r + 2 * ld) : default,
            rows > 3 ? Avx.LoadVector256(r + 3 * ld) : default,
            rows > 4 ? Avx.LoadVector256(r + 4 * ld) : default,
            rows > 5 ? Avx.LoadVector256(r + 5 * ld) : default,
            rows > 6 ? Avx.LoadVector256(r + 6 * ld) : default,
            rows > 7 ? Avx.LoadVector256(r + 7 * ld) : default,
            d, dstStride);

    /// <summary>
    /// Stores the 8×8 block whose rows are r0…r7 transposed: column q (element q of every row) goes to
    /// d + q·dstStride as one vector, in increasing q (so a later store overwrites an earlier one's spill).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void TransposeStore8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* d, int dstStride)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
