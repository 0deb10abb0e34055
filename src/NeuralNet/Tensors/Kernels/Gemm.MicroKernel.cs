using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The register-tiled inner kernels: C[0..MR, 0..NR) += α·Σₚ a[p]·b[p]ᵀ over packed strips, where a[p] is a column of
/// MR values of A and b[p] a row of NR values of B. Each k step broadcasts the MR values of a[p] one at a time and
/// multiplies them into the NR/W vectors of b[p] (W = lanes per vector), so an MR×NR tile of C stays in registers.
/// One kernel per instruction set, sized for its register file:
/// <list type="bullet">
/// <item>Vector512 (32 zmm): float 12×32, double 12×16: 24 accumulators, two B vectors, one broadcast.</item>
/// <item>Vector256 (16 ymm): float 6×16, double 6×8: 12 accumulators, two B vectors, one broadcast.</item>
/// <item>Scalar: 4×4, the portable fallback.</item>
/// </list>
/// </summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>Rows of the register tile at <paramref name="level"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MR(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => 12,
        SimdLevel.Vector256 => 6,
        _ => 4,
    };

    /// <summary>Columns of the register tile at <paramref name="level"/>: two vectors of T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NR<T>(SimdLevel level) where T : unmanaged => level switch
    {
        SimdLevel.Vector512 => 2 * 64 / sizeof(T),
        SimdLevel.Vector256 => 2 * 32 / sizeof(T),
        _ => 4,
    };

    /// <summary>The largest MR and NR of any level, for sizing buffers.</summary>
    public const int MaxMR = 12;

    public static int MaxNR<T>() where T : unmanaged => 2 * 64 / sizeof(T);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<T>(SimdLevel level, int kc, T* a, T* b, T* c, int ldc, T alpha, int mValid, int nValid)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (level == SimdLevel.Vector512)
        {
            if (typeof(T) == typeof(float)) Float12x32(kc, (float*)a, (float*)b, (float*)c, ldc, (float)(object)alpha, mValid, nValid);
            else Double12x16(kc, (double*)a, (double*)b, (double*)c, ldc, (double)(object)alpha, mValid, nValid);
        }
        else if (level == SimdLevel.Vector256)
        {
            if (typeof(T) == typeof(float)) Float6x16(kc, (float*)a, (float*)b, (float*)c, ldc, (float)(object)alpha, mValid, nValid);
            else Double6x8(kc, (double*)a, (double*)b, (double*)c, ldc, (double)(object)alpha, mValid, nValid);
        }
        else
        {
            Scalar4x4(kc, a, b, c, ldc, alpha, mValid, nValid);
        }
    }

    // ---- Vector512 -------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fmadd(Vector512<float> x, Vector512<float> y, Vector512<float> acc) => Avx512F.FusedMultiplyAdd(x, y, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Fmadd(Vector512<double> x, Vector512<double> y, Vector512<double> acc) => Avx512F.FusedMultiplyAdd(x, y, acc);

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float12x32(int kc, float* a, float* b, float* c, int ldc, float alpha, int mValid, int nValid)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadAligned(b);
            var b1 = Vector512.LoadAligned(b + 16);
            var ai = Vector512.Create(a[0]); c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
            ai = Vector512.Create(a[6]); c60 = Fmadd(ai, b0, c60); c61 = Fmadd(ai, b1, c61);
            ai = Vector512.Create(a[7]); c70 = Fmadd(ai, b0, c70); c71 = Fmadd(ai, b1, c71);
            ai = Vector512.Create(a[8]); c80 = Fmadd(ai, b0, c80); c81 = Fmadd(ai, b1, c81);
            ai = Vector512.Create(a[9]); c90 = Fmadd(ai, b0, c90); c91 = Fmadd(ai, b1, c91);
            ai = Vector512.Create(a[10]); cA0 = Fmadd(ai, b0, cA0); cA1 = Fmadd(ai, b1, cA1);
            ai = Vector512.Create(a[11]); cB0 = Fmadd(ai, b0, cB0); cB1 = Fmadd(ai, b1, cB1);
            a += 12;
            b += 32;
        }

        var va = Vector512.Create(alpha);
        if (mValid == 12 && nValid == 32)
        {
            Store(c, c00, c01, va); Store(c + ldc, c10, c11, va); Store(c + 2 * ldc, c20, c21, va);
            Store(c + 3 * ldc, c30, c31, va); Store(c + 4 * ldc, c40, c41, va); Store(c + 5 * ldc, c50, c51, va);
            Store(c + 6 * ldc, c60, c61, va); Store(c + 7 * ldc, c70, c71, va); Store(c + 8 * ldc, c80, c81, va);
            Store(c + 9 * ldc, c90, c91, va); Store(c + 10 * ldc, cA0, cA1, va); Store(c + 11 * ldc, cB0, cB1, va);
            return;
        }
        float* tile = stackalloc float[12 * 32];
        (c00 * va).Store(tile); (c01 * va).Store(tile + 16); (c10 * va).Store(tile + 32); (c11 * va).Store(tile + 48);
        (c20 * va).Store(tile + 64); (c21 * va).Store(tile + 80); (c30 * va).Store(tile + 96); (c31 * va).Store(tile + 112);
        (c40 * va).Store(tile + 128); (c41 * va).Store(tile + 144); (c50 * va).Store(tile + 160); (c51 * va).Store(tile + 176);
        (c60 * va).Store(tile + 192); (c61 * va).Store(tile + 208); (c70 * va).Store(tile + 224); (c71 * va).Store(tile + 240);
        (c80 * va).Store(tile + 256); (c81 * va).Store(tile + 272); (c90 * va).Store(tile + 288); (c91 * va).Store(tile + 304);
        (cA0 * va).Store(tile + 320); (cA1 * va).Store(tile + 336); (cB0 * va).Store(tile + 352); (cB1 * va).Store(tile + 368);
        AddTile(tile, 32, c, ldc, mValid, nValid);

        static void Store(float* row, Vector512<float> lo, Vector512<float> hi, Vector512<float> va)
        {
            Fmadd(lo, va, Vector512.Load(row)).Store(row);
            Fmadd(hi, va, Vector512.Load(row + 16)).Store(row + 16);
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Double12x16(int kc, double* a, double* b, double* c, int ldc, double alpha, int mValid, int nValid)
    {
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<double> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<double> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<double> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadAligned(b);
            var b1 = Vector512.LoadAligned(b + 8);
            var ai = Vector512.Create(a[0]); c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
            ai = Vector512.Create(a[6]); c60 = Fmadd(ai, b0, c60); c61 = Fmadd(ai, b1, c61);
            ai = Vector512.Create(a[7]); c70 = Fmadd(ai, b0, c70); c71 = Fmadd(ai, b1, c71);
            ai = Vector512.Create(a[8]); c80 = Fmadd(ai, b0, c80); c81 = Fmadd(ai, b1, c81);
            ai = Vector512.Create(a[9]); c90 = Fmadd(ai, b0, c90); c91 = Fmadd(ai, b1, c91);
            ai = Vector512.Create(a[10]); cA0 = Fmadd(ai, b0, cA0); cA1 = Fmadd(ai, b1, cA1);
            ai = Vector512.Create(a[11]); cB0 = Fmadd(ai, b0, cB0); cB1 = Fmadd(ai, b1, cB1);
            a += 12;
            b += 16;
        }

        var va = Vector512.Create(alpha);
        if (mValid == 12 && nValid == 16)
        {
            Store(c, c00, c01, va); Store(c + ldc, c10, c11, va); Store(c + 2 * ldc, c20, c21, va);
            Store(c + 3 * ldc, c30, c31, va); Store(c + 4 * ldc, c40, c41, va); Store(c + 5 * ldc, c50, c51, va);
            Store(c + 6 * ldc, c60, c61, va); Store(c + 7 * ldc, c70, c71, va); Store(c + 8 * ldc, c80, c81, va);
            Store(c + 9 * ldc, c90, c91, va); Store(c + 10 * ldc, cA0, cA1, va); Store(c + 11 * ldc, cB0, cB1, va);
            return;
        }
        double* tile = stackalloc double[12 * 16];
        (c00 * va).Store(tile); (c01 * va).Store(tile + 8); (c10 * va).Store(tile + 16); (c11 * va).Store(tile + 24);
        (c20 * va).Store(tile + 32); (c21 * va).Store(tile + 40); (c30 * va).Store(tile + 48); (c31 * va).Store(tile + 56);
        (c40 * va).Store(tile + 64); (c41 * va).Store(tile + 72); (c50 * va).Store(tile + 80); (c51 * va).Store(tile + 88);
        (c60 * va).Store(tile + 96); (c61 * va).Store(tile + 104); (c70 * va).Store(tile + 112); (c71 * va).Store(tile + 120);
        (c80 * va).Store(tile + 128); (c81 * va).Store(tile + 136); (c90 * va).Store(tile + 144); (c91 * va).Store(tile + 152);
        (cA0 * va).Store(tile + 160); (cA1 * va).Store(tile + 168); (cB0 * va).Store(tile + 176); (cB1 * va).Store(tile + 184);
        AddTile(tile, 16, c, ldc, mValid, nValid);

        static void Store(double* row, Vector512<double> lo, Vector512<double> hi, Vector512<double> va)
        {
            Fmadd(lo, va, Vector512.Load(row)).Store(row);
            Fmadd(hi, va, Vector512.Load(row + 8)).Store(row + 8);
        }
    }

    // ---- Vector256 -------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fmadd(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fmadd(Vector256<double> x, Vector256<double> y, Vector256<double> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, int mValid, int nValid)
    {
        if (mValid <= 2)
        {
            Float2x16(kc, a, b, c, ldc, alpha, mValid, nValid);
            return;
        }
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadAligned(b);
            var b1 = Vector256.LoadAligned(b + 8);
            var ai = Vector256.Create(a[0]); c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
            a += 6;
            b += 16;
        }

        var va = Vector256.Create(alpha);
        if (mValid == 6 && nValid == 16)
        {
            Store(c, c00, c01, va); Store(c + ldc, c10, c11, va); Store(c + 2 * ldc, c20, c21, va);
            Store(c + 3 * ldc, c30, c31, va); Store(c + 4 * ldc, c40, c41, va); Store(c + 5 * ldc, c50, c51, va);
            return;
        }
        float* tile = stackalloc float[6 * 16];
        (c00 * va).Store(tile); (c01 * va).Store(tile + 8); (c10 * va).Store(tile + 16); (c11 * va).Store(tile + 24);
        (c20 * va).Store(tile + 32); (c21 * va).Store(tile + 40); (c30 * va).Store(tile + 48); (c31 * va).Store(tile + 56);
        (c40 * va).Store(tile + 64); (c41 * va).Store(tile + 72); (c50 * va).Store(tile + 80); (c51 * va).Store(tile + 88);
        AddTile(tile, 16, c, ldc, mValid, nValid);
    }

    /// <summary>C[i, 0..16) += α·Σₚ a[p, i]·b[p, 0..16) for i &lt; 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> lo, Vector256<float> hi, Vector256<float> va)
    {
        Fmadd(lo, va, Vector256.Load(row)).Store(row);
        Fmadd(hi, va, Vector256.Load(row + 8)).Store(row + 8);
    }

    /// <summary>
    /// <see cref="Float6x16"/> for the last strip of a block whose rows leave one or two over (128 = 21·6 + 2): only those
    /// rows are multiplied (the panel still holds 6 a step). Each row's products and their order are the 6-row kernel's,
    /// so its bytes are too.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float2x16(int kc, float* a, float* b, float* c, int ldc, float alpha, int mValid, int nValid)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadAligned(b);
            var b1 = Vector256.LoadAligned(b + 8);
            var ai = Vector256.Create(a[0]); c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            a += 6;
            b += 16;
        }
        var va = Vector256.Create(alpha);
        if (nValid == 16)
        {
            Store(c, c00, c01, va);
            if (mValid == 2) Store(c + ldc, c10, c11, va);
            return;
        }
        float* tile = stackalloc float[2 * 16];
        (c00 * va).Store(tile); (c01 * va).Store(tile + 8); (c10 * va).Store(tile + 16); (c11 * va).Store(tile + 24);
        AddTile(tile, 16, c, ldc, mValid, nValid);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Double6x8(int kc, double* a, double* b, double* c, int ldc, double alpha, int mValid, int nValid)
    {
        Vector256<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<double> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadAligned(b);
            var b1 = Vector256.LoadAligned(b + 4);
            var ai = Vector256.Create(a[0]); c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
            a += 6;
            b += 8;
        }

        var va = Vector256.Create(alpha);
        if (mValid == 6 && nValid == 8)
        {
            Store(c, c00, c01, va); Store(c + ldc, c10, c11, va); Store(c + 2 * ldc, c20, c21, va);
            Store(c + 3 * ldc, c30, c31, va); Store(c + 4 * ldc, c40, c41, va); Store(c + 5 * ldc, c50, c51, va);
            return;
        }
        double* tile = stackalloc double[6 * 8];
        (c00 * va).Store(tile); (c01 * va).Store(tile + 4); (c10 * va).Store(tile + 8); (c11 * va).Store(tile + 12);
        (c20 * va).Store(tile + 16); (c21 * va).Store(tile + 20); (c30 * va).Store(tile + 24); (c31 * va).Store(tile + 28);
        (c40 * va).Store(tile + 32); (c41 * va).Store(tile + 36); (c50 * va).Store(tile + 40); (c51 * va).Store(tile + 44);
        AddTile(tile, 8, c, ldc, mValid, nValid);

        static void Store(double* row, Vector256<double> lo, Vector256<double> hi, Vector256<double> va)
        {
            Fmadd(lo, va, Vector256.Load(row)).Store(row);
            Fmadd(hi, va, Vector256.Load(row + 4)).Store(row + 4);
        }
    }

    // ---- Scalar ----------------------------------------------------------------------------------------------------

    /// <summary>The portable kernel: a 4×4 tile of scalar accumulators, the same summation order per element (p ascending).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scalar4x4<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, int mValid, int nValid)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* tile = stackalloc T[16];
        for (int i = 0; i < 16; i++) tile[i] = T.Zero;
        for (int p = 0; p < kc; p++, a += 4, b += 4)
        {
            for (int i = 0; i < 4; i++)
            {
                T ai = a[i];
                T* row = tile + i * 4;
                row[0] = T.FusedMultiplyAdd(ai, b[0], row[0]);
                row[1] = T.FusedMultiplyAdd(ai, b[1], row[1]);
                row[2] = T.FusedMultiplyAdd(ai, b[2], row[2]);
                row[3] = T.FusedMultiplyAdd(ai, b[3], row[3]);
            }
        }
        for (int i = 0; i < 16; i++) tile[i] *= alpha;
        AddTile(tile, 4, c, ldc, mValid, nValid);
    }

    /// <summary>C[0..mValid, 0..nValid) += tile (row stride <paramref name="tileStride"/>): the edge of C, where a full tile does not fit.</summary>
    private static void AddTile<T>(T* tile, int tileStride, T* c, int ldc, int mValid, int nValid) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < mValid; i++)
            for (int j = 0; j < nValid; j++) c[(long)i * ldc + j] += tile[i * tileStride + j];
    }
}
