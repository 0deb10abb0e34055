using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The register-tiled inner kernel: C[0..MR, 0..NR) += α·Σₚ a[p]·b[p]ᵀ over packed strips.
/// Float: MR = 6, NR = 16 (two Vector256 per row); double: MR = 6, NR = 8. Twelve accumulators,
/// two B vectors and one broadcast fit in the 16 ymm registers of AVX2.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    public const int MR = 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NR<T>() => 2 * Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, int mValid, int nValid) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) Float6x16(kc, (float*)a, (float*)b, (float*)c, ldc, (float)(object)alpha, mValid, nValid);
        else if (typeof(T) == typeof(double)) Double6x8(kc, (double*)a, (double*)b, (double*)c, ldc, (double)(object)alpha, mValid, nValid);
        else throw new NotSupportedException($"Gemm supports float and double, not {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fmadd(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fmadd(Vector256<double> x, Vector256<double> y, Vector256<double> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    [SkipLocalsInit]
    private static void Float6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, int mValid, int nValid)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(a[0]);
            c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
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
        for (int i = 0; i < mValid; i++)
            for (int j = 0; j < nValid; j++) c[(long)i * ldc + j] += tile[i * 16 + j];

        static void Store(float* row, Vector256<float> lo, Vector256<float> hi, Vector256<float> va)
        {
            Fmadd(lo, va, Vector256.Load(row)).Store(row);
            Fmadd(hi, va, Vector256.Load(row + 8)).Store(row + 8);
        }
    }

    [SkipLocalsInit]
    private static void Double6x8(int kc, double* a, double* b, double* c, int ldc, double alpha, int mValid, int nValid)
    {
        Vector256<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<double> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 4);
            var ai = Vector256.Create(a[0]);
            c00 = Fmadd(ai, b0, c00); c01 = Fmadd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Fmadd(ai, b0, c10); c11 = Fmadd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Fmadd(ai, b0, c20); c21 = Fmadd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Fmadd(ai, b0, c30); c31 = Fmadd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Fmadd(ai, b0, c40); c41 = Fmadd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Fmadd(ai, b0, c50); c51 = Fmadd(ai, b1, c51);
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
        for (int i = 0; i < mValid; i++)
            for (int j = 0; j < nValid; j++) c[(long)i * ldc + j] += tile[i * 8 + j];

        static void Store(double* row, Vector256<double> lo, Vector256<double> hi, Vector256<double> va)
        {
            Fmadd(lo, va, Vector256.Load(row)).Store(row);
            Fmadd(hi, va, Vector256.Load(row + 4)).Store(row + 4);
        }
    }
}
