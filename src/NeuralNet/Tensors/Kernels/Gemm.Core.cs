using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        int mcMax = blocking.MC, ncMax = blocking.NC;
        var buffers = GemmBuffers<T>.ForThisThread;
        T* packedA = buffers.A, packedB = buffers.B;
        int kcEven = blocking.EvenKC(k);
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

/// <summary>
/// <see cref="GemmCore"/> with op(A) = A read in place (float, not transposed, α = 1): C += A·B with the tiles of
/// <see cref="Conv2dDirect.Tile"/>, which broadcast A's values from MR row pointers, so only B is packed. A Linear
/// layer's forward pass, x·Wᵀ, then packs only its slice of W, not the whole batch x in every thread (each thread
/// reads all of x when the product is cut by output features, see <see cref="MatMulSplit"/>). The k-blocks, each
/// element's products and the order the blocks are added in are GemmCore's, so the bytes are the packed path's.
/// </summary>
internal static unsafe class GemmRowsInPlace
{
    /// <summary>
    /// True when this path gives the packed path's bytes and runs its tiles (the levels of <see cref="Conv2dDirect"/>),
    /// and A's rows are not a multiple of 4 KB apart: MR such rows share one set of the L1 cache and evict each other
    /// (1024³ on one Zen 4 core: 84 GFLOP/s in place, 95 packed).
    /// </summary>
    public static bool Applies<T>(SimdLevel level, bool transA, T alpha, int k, int lda) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) && !transA && alpha == T.One && k >= 16 && lda % 1024 != 0 && Vector256.IsHardwareAccelerated &&
        (level == SimdLevel.Vector512 || (level == SimdLevel.Vector256 && Fma.IsSupported));

    /// <summary>0, 1, 2, …: the offsets of one k-block's values along a row of A, for <see cref="Conv2dDirect.Tile"/>.</summary>
    private static readonly int* s_identity = Identity(GemmBlocking.Max<float>().KC);

    private static int* Identity(int length)
    {
        var offsets = (int*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(int)), 64); // lives as long as the process
        for (int i = 0; i < length; i++) offsets[i] = i;
        return offsets;
    }

    /// <summary>C = A·B + β·C for an m×n block; A row-major with row stride lda, B supplied by its packer.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TB>(SimdLevel level, int m, int n, int k, float* a, int lda, ref TB packB, float beta, float* c, int ldc)
        where TB : struct, IPackB<float>
    {
        Gemm.ScaleBlock(c, ldc, m, n, beta);
        if (m == 0 || n == 0 || k == 0) return;
        int mr = Conv2dDirect.MR(level), nr = Conv2dDirect.NR(level);
        var blocking = GemmBlocking.For<float>(level);
        int mcMax = blocking.MC, ncMax = blocking.NC;
        float* packedB = GemmBuffers<float>.ForThisThread.B;
        float** rows = stackalloc float*[mr];
        float* edge = stackalloc float[mr * nr];
        int kcEven = blocking.EvenKC(k);
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
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nValid = Math.Min(nr, nc - jr);
                        float* bPanel = packedB + (long)jr * kc;
                        for (int ir = ic; ir < ic + mc; ir += mr)
                        {
                            int mValid = Math.Min(mr, ic + mc - ir);
                            // Rows past the edge repeat the last one; their sums land in the edge tile and are dropped.
                            for (int i = 0; i < mr; i++) rows[i] = a + (long)(ir + Math.Min(i, mValid - 1)) * lda + pc;
                            float* cTile = c + (long)ir * ldc + jc + jr;
                            if (mValid == mr && nValid == nr)
                            {
                                Conv2dDirect.Tile(level, kc, bPanel, s_identity, rows, cTile, ldc);
                                continue;
                            }
                            if (mValid <= 2 && nValid == nr && level == SimdLevel.Vector256)
                            {
                                Conv2dDirect.Float2x16(kc, bPanel, s_identity, rows[0], rows[1], cTile, ldc, mValid);
                                continue;
                            }
                            // The edge tile starts at −0, the identity of +, so it holds the sums exactly (as the packed kernel's does).
                            new Span<float>(edge, mr * nr).Fill(-0f);
                            Conv2dDirect.Tile(level, kc, bPanel, s_identity, rows, edge, nr);
                            for (int i = 0; i < mValid; i++)
                                for (int j = 0; j < nValid; j++) cTile[(long)i * ldc + j] += edge[i * nr + j];
                        }
                    }
                }
            }
        }
    }
}
