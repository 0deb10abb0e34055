using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// General matrix multiply, C = α·op(A)·op(B) + β·C, on row-major storage, for float and double.
/// op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the row strides of the
/// stored matrices (A is stored m×k, or k×m when transposed; B is stored k×n, or n×k when transposed).
/// </summary>
/// <remarks>
/// The design follows high-performance BLAS (Goto and van de Geijn; BLIS):
/// <list type="number">
/// <item>C is split into one rectangle per thread (along m or n, whichever is longer); each rectangle is computed by one thread, so
/// the result does not depend on the thread count.</item>
/// <item>Within a rectangle, loops over n-blocks of NC columns, k-blocks of KC, and m-blocks of MC rows. For each (k, n) block a
/// KC×NC panel of B is packed into NR-column strips laid out k-major; for each m-block an MC×KC panel of A is packed into MR-row
/// strips. Packing turns transposes into a layout change and makes every micro-kernel load sequential.</item>
/// <item>The micro-kernel (<see cref="GemmMicroKernel"/>) keeps an MR×NR tile of C in 12 SIMD registers and performs
/// 2·MR fused multiply-adds per k step from one broadcast of A and two vector loads of B.</item>
/// </list>
/// <see cref="GemmReference"/> is the plain triple loop this must agree with; it is the specification.
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>Below this many multiply-adds one thread is faster than waking the others.</summary>
    private const long ParallelThreshold = 64 * 64 * 64;

    /// <summary>C = α·op(A)·op(B) + β·C. When β is zero, C is overwritten (NaNs in C do not propagate).</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (k == 0 || alpha == T.Zero)
            {
                ScaleBlock(pc, ldc, m, n, beta);
                return;
            }
            var job = GemmJob<T>.ForThisThread;
            job.Set(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            long work = (long)m * n * k;
            int threads = work < ParallelThreshold ? 1 : Parallelism.MaxThreads;
            job.Partition(threads);
            Parallelism.Run(job, job.Parts);
        }
    }

    /// <summary>Checks the dimensions and that every stored matrix fits in its span; the message names all of them.</summary>
    internal static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Gemm: dimensions must be non-negative (m={m}, n={n}, k={k}).");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        Check("A", aRows, aCols, aLength, lda);
        Check("B", bRows, bCols, bLength, ldb);
        Check("C", m, n, cLength, ldc);

        void Check(string name, int rows, int cols, int length, int ld)
        {
            if (rows == 0 || cols == 0) return;
            if (ld < cols)
                throw new ShapeMismatchException($"Gemm (transA={transA}, transB={transB}, m={m}, n={n}, k={k}): {name} is stored ({rows}, {cols}) but its row stride is {ld} < {cols}.");
            long needed = (long)(rows - 1) * ld + cols;
            if (needed > length)
                throw new ShapeMismatchException($"Gemm (transA={transA}, transB={transB}, m={m}, n={n}, k={k}): {name} is stored ({rows}, {cols}) with row stride {ld}, which needs {needed} elements, but only {length} were given.");
        }
    }

    /// <summary>C[0..rows, 0..cols) *= β, with β = 0 meaning "set to zero".</summary>
    internal static void ScaleBlock<T>(T* c, int ldc, int rows, int cols, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.One) return;
        for (int i = 0; i < rows; i++)
        {
            var row = new Span<T>(c + (long)i * ldc, cols);
            if (beta == T.Zero) row.Clear();
            else
            {
                for (int j = 0; j < row.Length; j++) row[j] *= beta;
            }
        }
    }

    /// <summary>The blocked computation of one rectangle of C, cached per calling thread so a call allocates nothing.</summary>
    private sealed class GemmJob<T> : IParallelWork where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static GemmJob<T>? t_job;

        public static GemmJob<T> ForThisThread => t_job ??= new GemmJob<T>();

        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private T _alpha, _beta;
        private T* _a, _b, _c;
        private bool _splitRows;
        private int _chunk;

        public int Parts { get; private set; }

        public void Set(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        {
            (_transA, _transB, _m, _n, _k, _alpha, _lda, _ldb, _beta, _ldc) = (transA, transB, m, n, k, alpha, lda, ldb, beta, ldc);
            _a = a;
            _b = b;
            _c = c;
        }

        /// <summary>One rectangle per thread, cut along the longer side in whole micro-tiles.</summary>
        public void Partition(int threads)
        {
            int mr = GemmMicroKernel.MR, nr = GemmMicroKernel.NR<T>();
            _splitRows = _m >= _n;
            int extent = _splitRows ? _m : _n, unit = _splitRows ? mr : nr;
            int tiles = (extent + unit - 1) / unit;
            int parts = Math.Max(1, Math.Min(threads, tiles));
            _chunk = (tiles + parts - 1) / parts * unit;
            Parts = (extent + _chunk - 1) / _chunk;
        }

        public void Execute(int part)
        {
            int start = part * _chunk;
            if (_splitRows) Compute(start, Math.Min(_chunk, _m - start), 0, _n);
            else Compute(0, _m, start, Math.Min(_chunk, _n - start));
        }

        private void Compute(int m0, int mCount, int n0, int nCount)
        {
            int mr = GemmMicroKernel.MR, nr = GemmMicroKernel.NR<T>();
            int kcMax = GemmBlocking.KC, mcMax = GemmBlocking.MC<T>(), ncMax = GemmBlocking.NC<T>();
            var buffers = GemmBuffers<T>.ForThisThread;
            T* packedA = buffers.A, packedB = buffers.B;

            ScaleBlock(_c + (long)m0 * _ldc + n0, _ldc, mCount, nCount, _beta);
            for (int jc = 0; jc < nCount; jc += ncMax)
            {
                int nc = Math.Min(ncMax, nCount - jc);
                // Equal k-blocks (784 = 4 × 196, not 3 × 256 + 16): a thin last block would pay a full C update for little work.
                int kBlocks = (_k + kcMax - 1) / kcMax;
                int kcEven = (_k + kBlocks - 1) / kBlocks;
                for (int pc = 0; pc < _k; pc += kcEven)
                {
                    int kc = Math.Min(kcEven, _k - pc);
                    GemmPacking.PackB(_transB, _b, _ldb, pc, n0 + jc, kc, nc, nr, packedB);
                    for (int ic = 0; ic < mCount; ic += mcMax)
                    {
                        int mc = Math.Min(mcMax, mCount - ic);
                        GemmPacking.PackA(_transA, _a, _lda, m0 + ic, pc, mc, kc, mr, packedA);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int nrValid = Math.Min(nr, nc - jr);
                            T* bPanel = packedB + (long)jr * kc;
                            T* cColumn = _c + (long)(m0 + ic) * _ldc + n0 + jc + jr;
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                GemmMicroKernel.Run(kc, packedA + (long)ir * kc, bPanel, cColumn + (long)ir * _ldc, _ldc,
                                    _alpha, Math.Min(mr, mc - ir), nrValid);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// <summary>Cache blocking sizes. KC·NR of B stays in L1 across a row strip; MC·KC of A stays in L2.</summary>
internal static class GemmBlocking
{
    public const int KC = 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MC<T>() => typeof(T) == typeof(float) ? 144 : 72;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NC<T>() => typeof(T) == typeof(float) ? 2048 : 1024;
}

/// <summary>Per-thread packing buffers, allocated once per thread and pinned, so a multiply allocates nothing.</summary>
internal sealed unsafe class GemmBuffers<T> where T : unmanaged
{
    [ThreadStatic] private static GemmBuffers<T>? t_buffers;

    private readonly T[] _a;
    private readonly T[] _b;

    private GemmBuffers(int aLength, int bLength)
    {
        _a = GC.AllocateUninitializedArray<T>(aLength, pinned: true);
        _b = GC.AllocateUninitializedArray<T>(bLength, pinned: true);
        A = (T*)Unsafe.AsPointer(ref _a[0]);
        B = (T*)Unsafe.AsPointer(ref _b[0]);
    }

    public T* A { get; }

    public T* B { get; }

    public static GemmBuffers<T> ForThisThread
    {
        get
        {
            if (t_buffers is null)
            {
                int mr = GemmMicroKernel.MR, nr = GemmMicroKernel.NR<T>();
                int mc = (GemmBlocking.MC<T>() + mr - 1) / mr * mr;
                int nc = (GemmBlocking.NC<T>() + nr - 1) / nr * nr;
                t_buffers = new GemmBuffers<T>(mc * GemmBlocking.KC, nc * GemmBlocking.KC);
            }
            return t_buffers;
        }
    }
}
