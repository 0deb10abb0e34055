using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralNet.Tensors.Kernels;

/// <summary>Writes op(A)[row0..row0+mc, col0..col0+kc) into MR-row strips: dst[s·MR·kc + p·MR + i] = op(A)[row0 + s·MR + i, col0 + p], zero past the edge.</summary>
internal unsafe interface IPackA<T> where T : unmanaged
{
    void Pack(int row0, int col0, int mc, int kc, int mr, T* dst);
}

/// <summary>Writes op(B)[row0..row0+kc, col0..col0+nc) into NR-column strips: dst[s·NR·kc + p·NR + j] = op(B)[row0 + p, col0 + s·NR + j], zero past the edge.</summary>
internal unsafe interface IPackB<T> where T : unmanaged
{
    void Pack(int row0, int col0, int kc, int nc, int nr, T* dst);
}

/// <summary>A stored row-major, m×k (or k×m when transposed), with row stride lda.</summary>
internal readonly unsafe struct StridedA<T>(bool trans, T* a, int lda) : IPackA<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Pack(int row0, int col0, int mc, int kc, int mr, T* dst) => GemmPacking.PackA(trans, a, lda, row0, col0, mc, kc, mr, dst);
}

/// <summary>B stored row-major, k×n (or n×k when transposed), with row stride ldb.</summary>
internal readonly unsafe struct StridedB<T>(bool trans, T* b, int ldb) : IPackB<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Pack(int row0, int col0, int kc, int nc, int nr, T* dst) => GemmPacking.PackB(trans, b, ldb, row0, col0, kc, nc, nr, dst);
}

/// <summary>
/// The blocked loop nest of one GEMM on the calling thread, C = α·A·B + β·C for an m×n block of C, with A and B
/// supplied by packers: <see cref="Gemm"/> packs strided matrices, the convolution packs image patches straight into
/// the panels (implicit im2col). The loops: n-blocks of NC, k-blocks of at most KC (cut evenly), m-blocks of MC;
/// per (k, n) block B is packed once, per m-block A once, then the micro-kernel sweeps the MR×NR tiles.
/// </summary>
internal static unsafe class GemmCore
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TA, TB>(SimdLevel level, int m, int n, int k, ref TA packA, ref TB packB, T alpha, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TA : struct, IPackA<T>
        where TB : struct, IPackB<T>
    {
        Gemm.ScaleBlock(c, ldc, m, n, beta);
        if (m == 0 || n == 0 || k == 0) return;
        int mr = GemmMicroKernel.MR(level), nr = GemmMicroKernel.NR<T>(level);
        var blocking = GemmBlocking.For<T>(level);
        int kcMax = blocking.KC, mcMax = blocking.MC, ncMax = blocking.NC;
        var buffers = GemmBuffers<T>.ForThisThread;
        T* packedA = buffers.A, packedB = buffers.B;
        // Equal k-blocks (784 = 4 × 196, not 3 × 256 + 16): a thin last block would pay a full C update for little work.
        int kBlocks = (k + kcMax - 1) / kcMax;
        int kcEven = (k + kBlocks - 1) / kBlocks;
        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            for (int pc = 0; pc < k; pc += kcEven)
            {
                int kc = Math.Min(kcEven, k - pc);
                packB.Pack(pc, jc, kc, nc, nr, packedB);
                for (int ic = 0; ic < m; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m - ic);
                    packA.Pack(ic, pc, mc, kc, mr, packedA);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nrValid = Math.Min(nr, nc - jr);
                        T* bPanel = packedB + (long)jr * kc;
                        T* cColumn = c + (long)ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            GemmMicroKernel.Run(level, kc, packedA + (long)ir * kc, bPanel, cColumn + (long)ir * ldc, ldc,
                                alpha, Math.Min(mr, mc - ir), nrValid);
                        }
                    }
                }
            }
        }
    }
}
