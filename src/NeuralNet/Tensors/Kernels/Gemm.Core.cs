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
/// The A side of <see cref="GemmCore"/>'s loop nest: readies an m-block of op(A) for a k-block, then multiplies its
/// MR×NR tiles. Packed (<see cref="PackedTiles{T, TA}"/>) or read in place (<see cref="GemmRowsInPlace"/>); one loop nest
/// serves both, so they block and order their sums alike.
/// </summary>
internal unsafe interface IATiles<T> where T : unmanaged
{
    /// <summary>Rows and columns of one tile.</summary>
    int MR { get; }

    /// <inheritdoc cref="MR"/>
    int NR { get; }

    /// <summary>Readies rows [ic, ic + mc) of op(A) for columns [pc, pc + kc) (packs them, or notes where they start).</summary>
    void Block(int ic, int pc, int mc, int kc);

    /// <summary>cTile[i, j] += α·Σₚ op(A)[ir + i, p]·bPanel[p, j] for i &lt; mValid, j &lt; nValid, over the block's kc columns.</summary>
    void Tile(int ir, int kc, T* bPanel, T* cTile, int ldc, int mValid, int nValid);
}

/// <summary>A packed into MR-row strips per m-block by its packer, multiplied by <see cref="GemmMicroKernel"/>.</summary>
internal unsafe struct PackedTiles<T, TA>(SimdLevel level, TA pack, T* buffer, T alpha) : IATiles<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TA : struct, IPackA<T>
{
    private TA _pack = pack;
    private int _ic;

    public readonly int MR => GemmMicroKernel.MR(level);

    public readonly int NR => GemmMicroKernel.NR<T>(level);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Block(int ic, int pc, int mc, int kc)
    {
        _ic = ic;
        _pack.Pack(ic, pc, mc, kc, MR, buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Tile(int ir, int kc, T* bPanel, T* cTile, int ldc, int mValid, int nValid) =>
        GemmMicroKernel.Run(level, kc, buffer + (long)(ir - _ic) * kc, bPanel, cTile, ldc, alpha, mValid, nValid);
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
        var tiles = new PackedTiles<T, TA>(level, packA, GemmBuffers<T>.ForThisThread.A, alpha);
        Loop<T, PackedTiles<T, TA>, TB>(level, m, n, k, ref tiles, ref packB, beta, c, ldc);
    }

    /// <summary>The loop nest with the A side given: C = (A·B, as <paramref name="tiles"/> multiply) + β·C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Loop<T, TTiles, TB>(SimdLevel level, int m, int n, int k, ref TTiles tiles, ref TB packB, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTiles : struct, IATiles<T>
        where TB : struct, IPackB<T>
    {
        Gemm.ScaleBlock(c, ldc, m, n, beta);
        if (m == 0 || n == 0 || k == 0) return;
        int mr = tiles.MR, nr = tiles.NR;
        var blocking = GemmBlocking.For<T>(level);
        int mcMax = blocking.MC, ncMax = blocking.NC;
        T* packedB = GemmBuffers<T>.ForThisThread.B;
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
                    tiles.Block(ic, pc, mc, kc);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nValid = Math.Min(nr, nc - jr);
                        T* bPanel = packedB + (long)jr * kc;
                        for (int ir = ic; ir < ic + mc; ir += mr)
                            tiles.Tile(ir, kc, bPanel, c + (long)ir * ldc + jc + jr, ldc, Math.Min(mr, ic + mc - ir), nValid);
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
/// reads all of x when the product is cut by output features, see <see cref="MatMulSplit"/>). The loop nest is
/// GemmCore's and each element's products are in the packed kernel's order, so the bytes are the packed path's.
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
        int mr = Conv2dDirect.MR(level), nr = Conv2dDirect.NR(level);
        float** rows = stackalloc float*[mr];
        float* edge = stackalloc float[mr * nr];
        var tiles = new Tiles(level, a, lda, rows, edge);
        GemmCore.Loop<float, Tiles, TB>(level, m, n, k, ref tiles, ref packB, beta, c, ldc);
    }

    /// <summary>A's rows read through MR row pointers (the k-block's columns at the identity offsets).</summary>
    private struct Tiles(SimdLevel level, float* a, int lda, float** rows, float* edge) : IATiles<float>
    {
        private int _pc;

        public readonly int MR => Conv2dDirect.MR(level);

        public readonly int NR => Conv2dDirect.NR(level);

        public void Block(int ic, int pc, int mc, int kc) => _pc = pc;

        public readonly void Tile(int ir, int kc, float* bPanel, float* cTile, int ldc, int mValid, int nValid)
        {
            int mr = MR, nr = NR;
            // Rows past the edge repeat the last one; their sums land in the edge tile and are dropped.
            for (int i = 0; i < mr; i++) rows[i] = a + (long)(ir + Math.Min(i, mValid - 1)) * lda + _pc;
            if (mValid == mr && nValid == nr)
            {
                Conv2dDirect.Tile(level, kc, bPanel, s_identity, rows, cTile, ldc);
                return;
            }
            if (mValid <= 2 && nValid == nr && level == SimdLevel.Vector256)
            {
                Conv2dDirect.Float2x16(kc, bPanel, s_identity, rows[0], rows[1], cTile, ldc, mValid);
                return;
            }
            // The edge tile starts at −0, the identity of +, so it holds the sums exactly (as the packed kernel's does).
            new Span<float>(edge, mr * nr).Fill(-0f);
            Conv2dDirect.Tile(level, kc, bPanel, s_identity, rows, edge, nr);
            for (int i = 0; i < mValid; i++)
                for (int j = 0; j < nValid; j++) cTile[(long)i * ldc + j] += edge[i * nr + j];
        }
    }
}
