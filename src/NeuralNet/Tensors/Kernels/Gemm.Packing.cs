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
                if (cols == nr)
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
}
