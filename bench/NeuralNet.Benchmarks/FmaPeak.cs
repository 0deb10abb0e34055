using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Benchmarks;

/// <summary>
/// The measured float32 FMA peak of this CPU: 12 independent chains c ← c·a + b per thread (a core with 2 FMA pipes
/// of 4-cycle latency needs ≥ 8 in flight), on N threads at once; 2 flops per FMA lane. The C twins are
/// fma_peak.c / fma_peak512.c beside the peer scripts. GEMM efficiency is GFLOP/s over this peak.
/// </summary>
public static class FmaPeak
{
    private const int Chains = 12;

    /// <summary>The vector width the peak loop uses for <paramref name="level"/>: 512 bits at Vector512, else 256 (with FMA).</summary>
    public static int Bits(SimdLevel level) => level == SimdLevel.Vector512 ? 512 : 256;

    /// <summary>
    /// Best-of-<paramref name="repeats"/> GFLOP/s of <paramref name="threads"/> threads running the FMA loop together,
    /// each run lasting about <paramref name="seconds"/>. The best, not the median: interference only lowers a peak.
    /// </summary>
    public static double Measure(int threads, SimdLevel level, double seconds = 0.15, int repeats = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        bool wide = level == SimdLevel.Vector512;
        int lanes = Bits(level) / 32;
        // Calibrate the iteration count on one thread (the first call also compiles the loop).
        long iters = 1 << 16;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            Run(wide, iters);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (s > 0.02) { iters = (long)(iters * seconds / s); break; }
            iters *= 4;
        }
        double best = 0;
        for (int r = 0; r < repeats; r++)
        {
            double wall = Together(threads, wide, iters);
            best = Math.Max(best, (double)threads * iters * Chains * lanes * 2 / wall / 1e9);
        }
        return best;
    }

    /// <summary>One JSON line: {"op":"fma_peak","isa":…,"bits":…,"threads":…,"gflops":…}.</summary>
    public static string JsonLine(int threads, SimdLevel level, double gflops, bool active) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"op\":\"fma_peak\",\"isa\":\"{(level == SimdLevel.Vector512 ? "AVX-512F" : "AVX2+FMA")}\",\"bits\":{Bits(level)},\"threads\":{threads},\"gflops\":{gflops:F1},\"active\":{(active ? "true" : "false")}}}");

    /// <summary>Seconds from the first thread's start to the last one's end, all released by one barrier.</summary>
    private static double Together(int threads, bool wide, long iters)
    {
        var starts = new long[threads];
        var ends = new long[threads];
        using var barrier = new Barrier(threads);
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            int id = i;
            workers[i] = new Thread(() =>
            {
                barrier.SignalAndWait();
                starts[id] = Stopwatch.GetTimestamp();
                Run(wide, iters);
                ends[id] = Stopwatch.GetTimestamp();
            }) { IsBackground = true };
            workers[i].Start();
        }
        foreach (var w in workers) w.Join();
        return (ends.Max() - starts.Min()) / (double)Stopwatch.Frequency;
    }

    private static float Run(bool wide, long iters) => wide ? Loop512(iters) : Loop256(iters);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iters)
    {
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f);
        // Distinct starting values, so no two chains are the same computation.
        Vector256<float> c0 = Vector256.Create(0f), c1 = Vector256.Create(1f), c2 = Vector256.Create(2f), c3 = Vector256.Create(3f),
            c4 = Vector256.Create(4f), c5 = Vector256.Create(5f), c6 = Vector256.Create(6f), c7 = Vector256.Create(7f),
            c8 = Vector256.Create(8f), c9 = Vector256.Create(9f), c10 = Vector256.Create(10f), c11 = Vector256.Create(11f);
        if (Fma.IsSupported)
        {
            for (long i = 0; i < iters; i++)
            {
                c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b); c2 = Fma.MultiplyAdd(c2, a, b);
                c3 = Fma.MultiplyAdd(c3, a, b); c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
                c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b); c8 = Fma.MultiplyAdd(c8, a, b);
                c9 = Fma.MultiplyAdd(c9, a, b); c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
            }
        }
        else
        {
            // NOTE: not x86 (or no FMA): the portable call, a fused instruction where the hardware has one.
            for (long i = 0; i < iters; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
                c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
                c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
                c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            }
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return s.GetElement(0); // the caller ignores it; returning it keeps the chains alive
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iters)
    {
        if (!Avx512F.IsSupported) throw new NotSupportedException("FmaPeak: 512-bit FMA needs AVX-512F.");
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(0f), c1 = Vector512.Create(1f), c2 = Vector512.Create(2f), c3 = Vector512.Create(3f),
            c4 = Vector512.Create(4f), c5 = Vector512.Create(5f), c6 = Vector512.Create(6f), c7 = Vector512.Create(7f),
            c8 = Vector512.Create(8f), c9 = Vector512.Create(9f), c10 = Vector512.Create(10f), c11 = Vector512.Create(11f);
        for (long i = 0; i < iters; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b); c2 = Avx512F.FusedMultiplyAdd(c2, a, b);
            c3 = Avx512F.FusedMultiplyAdd(c3, a, b); c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
            c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b); c8 = Avx512F.FusedMultiplyAdd(c8, a, b);
            c9 = Avx512F.FusedMultiplyAdd(c9, a, b); c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return s.GetElement(0);
    }
}
