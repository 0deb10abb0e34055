using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// General matrix multiply, C = α·op(A)·op(B) + β·C, on row-major storage, for float and double.
/// op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the row strides of the
/// stored matrices (A is stored m×k, or k×m when transposed; B is stored k×n, or n×k when transposed).
/// </summary>
/// <remarks>
/// The design follows high-performance BLAS (Goto and van de Geijn; BLIS):
/// <list type="number">
/// <item>C is split into one rectangle per thread (along m or n, whichever is longer, or the side a <see cref="MatMulSplit"/>
/// names); each rectangle is computed by one thread, so the result does not depend on the thread count or the cut.</item>
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
    /// <remarks><paramref name="split"/> says how the threads share the work (<see cref="MatMulSplit"/>); it does not change the result.</remarks>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        T beta, Span<T> c, int ldc, MatMulSplit split = MatMulSplit.Auto)
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
            job.Level = Simd.Active;
            job.Set(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            long work = (long)m * n * k;
            int threads = work < ParallelThreshold ? 1 : Parallelism.MaxThreads;
            job.Partition(threads, split);
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

        /// <summary>The most columns a thread may have for A to be read in place (see <see cref="Compute"/>).</summary>
        private const int InPlaceColumns = 128;

        /// <summary>The instruction set of this call, read once so every part uses the same kernel and tile.</summary>
        public SimdLevel Level { get; set; }

        public void Set(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        {
            (_transA, _transB, _m, _n, _k, _alpha, _lda, _ldb, _beta, _ldc) = (transA, transB, m, n, k, alpha, lda, ldb, beta, ldc);
            _a = a;
            _b = b;
            _c = c;
        }

        /// <summary>
        /// One rectangle per thread, cut in whole micro-tiles along the side <paramref name="split"/> names, or the longer
        /// side (Auto). A named cut keeps a thread's slice of the operands in its core's cache from call to call, which
        /// pays only while the operands fit in the cores' L2 caches together; a larger product takes the longer side,
        /// which packs the least (each thread packs all of the operand that is not cut).
        /// </summary>
        public void Partition(int threads, MatMulSplit split)
        {
            int mr = GemmMicroKernel.MR(Level), nr = GemmMicroKernel.NR<T>(Level);
            long bytes = ((long)_m * _n + (long)_m * _k + (long)_k * _n) * sizeof(T);
            if (bytes > CacheSizes.Current.L2 * threads) split = MatMulSplit.Auto;
            _splitRows = split == MatMulSplit.Auto ? _m >= _n : split == MatMulSplit.Rows;
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
            // This thread's rectangle C[m0.., n0..): rows m0.. of op(A), columns n0.. of op(B).
            T* a = _transA ? _a + m0 : _a + (long)m0 * _lda;
            T* b = _transB ? _b + (long)n0 * _ldb : _b + n0;
            var packB = new StridedB<T>(_transB, b, _ldb);
            // Cut by columns, every thread would pack all of A for its few columns: read it in place instead (a Linear
            // forward's x). With more columns a thread the packing is a small share and the packed loop the faster
            // (2 threads, Zen 4: 128×128×784 0.132 ms in place vs 0.143 packed; 128×784×128 0.139–0.146 vs 0.134–0.141).
            if (!_splitRows && Parts > 1 && nCount <= InPlaceColumns && GemmRowsInPlace.Applies(Level, _transA, _alpha, _k, _lda))
            {
                var packFloatB = new StridedB<float>(_transB, (float*)b, _ldb);
                GemmRowsInPlace.Run(Level, mCount, nCount, _k, (float*)a, _lda, ref packFloatB, float.CreateTruncating(_beta),
                    (float*)(_c + (long)m0 * _ldc + n0), _ldc);
                return;
            }
            var packA = new StridedA<T>(_transA, a, _lda);
            GemmCore.Run(Level, mCount, nCount, _k, ref packA, ref packB, _alpha, _beta, _c + (long)m0 * _ldc + n0, _ldc);
        }
    }
}

/// <summary>
/// Cache blocking sizes, from the cache sizes of the CPU this runs on. The micro-kernel streams one KC×NR strip of
/// packed B from L1 for every MR-row strip of A, so KC·NR·sizeof(T) is held to half of L1d (the other half holds the
/// A strip and C's lines); the MC×KC block of packed A is held to an eighth of L2, since the packed B panel streams
/// through L2 beside it (at 1024³ on one Zen 4 core: 92 GFLOP/s with MC = 126, 83 with MC = 384); NC·KC of B to a
/// share of L3.
/// KC is at least 128 (the C tile is loaded and stored once per KC steps) and at most 384.
/// </summary>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    private static readonly GemmBlocking[] s_float = Build(sizeof(float));
    private static readonly GemmBlocking[] s_double = Build(sizeof(double));

    /// <summary>
    /// The k-block for an inner dimension <paramref name="k"/>: K cut evenly into blocks of at most KC (784 = 4 × 196,
    /// not 3 × 256 + 16: a thin last block would pay a full C update for little work). Every path that must give
    /// GemmCore's bytes blocks K this way.
    /// </summary>
    public int EvenKC(int k)
    {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>The largest KC, MC and NC of any level, for sizing the packing buffers.</summary>
    public static GemmBlocking Max<T>() where T : unmanaged
    {
        var all = typeof(T) == typeof(float) ? s_float : s_double;
        return new GemmBlocking(all.Max(b => b.KC), all.Max(b => b.MC), all.Max(b => b.NC));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GemmBlocking For<T>(SimdLevel level) where T : unmanaged =>
        (typeof(T) == typeof(float) ? s_float : s_double)[(int)level];

    private static GemmBlocking[] Build(int elementSize)
    {
        var caches = CacheSizes.Current;
        var result = new GemmBlocking[3];
        for (int level = 0; level < result.Length; level++)
        {
            var l = (SimdLevel)level;
            int mr = GemmMicroKernel.MR(l);
            int nr = level switch { 2 => 128 / elementSize, 1 => 64 / elementSize, _ => 4 };
            int kc = (int)Math.Clamp(caches.L1Data / 2 / (nr * elementSize) / 16 * 16, 128, 384);
            int mc = (int)Math.Clamp(caches.L2 / 8 / ((long)kc * elementSize) / mr * mr, 4 * mr, 64 * mr);
            int nc = (int)Math.Clamp(caches.L3PerCore / 2 / ((long)kc * elementSize) / nr * nr, 16 * nr, 4096 / nr * nr);
            result[level] = new GemmBlocking(kc, mc, nc);
        }
        return result;
    }
}

/// <summary>Per-core cache sizes in bytes, read from Linux's sysfs, with common sizes where that is not available.</summary>
internal readonly record struct CacheSizes(long L1Data, long L2, long L3PerCore)
{
    public static CacheSizes Current { get; } = Read();

    private static CacheSizes Read()
    {
        long l1 = 32 * 1024, l2 = 1024 * 1024, l3 = 4L * 1024 * 1024;
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root)) return new CacheSizes(l1, l2, l3);
            foreach (string dir in Directory.EnumerateDirectories(root, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(dir, "type")).Trim();
                int level = int.Parse(File.ReadAllText(Path.Combine(dir, "level")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                long size = ParseSize(File.ReadAllText(Path.Combine(dir, "size")).Trim());
                if (size <= 0 || type == "Instruction") continue;
                if (level == 1) l1 = size;
                else if (level == 2) l2 = size;
                else if (level == 3) l3 = size / Math.Max(1, Environment.ProcessorCount);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Keep the defaults.
        }
        return new CacheSizes(l1, l2, Math.Max(l3, l2));
    }

    private static long ParseSize(string text)
    {
        long multiplier = 1;
        if (text.EndsWith('K')) multiplier = 1024;
        else if (text.EndsWith('M')) multiplier = 1024 * 1024;
        return long.TryParse(text.TrimEnd('K', 'M'), System.Globalization.CultureInfo.InvariantCulture, out long v) ? v * multiplier : 0;
    }
}

/// <summary>Per-thread packing buffers, allocated once per thread and aligned to 64-byte cache lines (every packed strip
/// then starts on a line, so the micro-kernel's vector loads never split a line), so a multiply allocates nothing.</summary>
internal sealed unsafe class GemmBuffers<T> where T : unmanaged
{
    [ThreadStatic] private static GemmBuffers<T>? t_buffers;

    private GemmBuffers(long aLength, long bLength)
    {
        A = (T*)NativeMemory.AlignedAlloc((nuint)(aLength * sizeof(T)), 64);
        B = (T*)NativeMemory.AlignedAlloc((nuint)(bLength * sizeof(T)), 64);
    }

    // Lives as long as its thread; the kernel threads live as long as the process.
    ~GemmBuffers()
    {
        NativeMemory.AlignedFree(A);
        NativeMemory.AlignedFree(B);
    }

    /// <summary>Elements past the largest panel: packers may write one vector beyond a panel's end (see <see cref="PatchRuns"/>).</summary>
    public const int Slack = 64;

    public T* A { get; }

    public T* B { get; }

    public static GemmBuffers<T> ForThisThread
    {
        get
        {
            if (t_buffers is null)
            {
                var max = GemmBlocking.Max<T>();
                int mr = GemmMicroKernel.MaxMR, nr = GemmMicroKernel.MaxNR<T>();
                long mc = (max.MC + mr - 1) / mr * mr;
                long nc = (max.NC + nr - 1) / nr * nr;
                t_buffers = new GemmBuffers<T>(mc * max.KC + Slack, nc * max.KC + Slack);
            }
            return t_buffers;
        }
    }
}
