using System.Diagnostics;
using System.Globalization;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Benchmarks;

/// <summary>
/// A fast benchmark (well under a minute) printing one JSON object per line: the machine (<see cref="MachineInfo"/>),
/// the measured FMA peak of every vector width this CPU has (<see cref="FmaPeak"/>; the one the kernels use now is
/// marked active), then the median GFLOP/s of sgemm at the MLP's shapes and at squares 256, 512, 1024, each with its
/// efficiency: the share of the active peak it reaches.
/// </summary>
public static class QuickBench
{
    /// <summary>A named multiply: C(m×n) = op(A)·op(B) with inner dimension k.</summary>
    public sealed record Case(string Name, int M, int N, int K, bool TransA, bool TransB);

    /// <summary>The MLP's three products (forward, weight gradient, input gradient) and three squares.</summary>
    public static readonly Case[] Cases =
    [
        new("mlp_forward X·Wᵀ (128×784)·(784×128)", 128, 128, 784, false, true),
        new("mlp_weight_grad Xᵀ·dY (784×128)ᵀ·(128×128)", 784, 128, 128, true, false),
        new("mlp_input_grad dY·W (128×128)·(128×784)", 128, 784, 128, false, false),
        new("square", 256, 256, 256, false, false),
        new("square", 512, 512, 512, false, false),
        new("square", 1024, 1024, 1024, false, false),
    ];

    public static void Run(int threads, double secondsPerCase)
    {
        TensorOps.Threads = threads;
        Console.WriteLine($"{{\"machine\":{MachineInfo.Json()}}}");
        // The peak of the width the kernels use (scalar code is measured against the 256-bit peak), and of the others.
        SimdLevel peakLevel = Simd.Active == SimdLevel.Vector512 ? SimdLevel.Vector512 : SimdLevel.Vector256;
        double peak = 0;
        foreach (var level in new[] { SimdLevel.Vector256, SimdLevel.Vector512 })
        {
            if (level == SimdLevel.Vector512 && Simd.Best < SimdLevel.Vector512) continue;
            double g = FmaPeak.Measure(threads, level);
            if (level == peakLevel) peak = g;
            Console.WriteLine(FmaPeak.JsonLine(threads, level, g, level == peakLevel));
        }
        string isa = Simd.Describe(Simd.Active);
        foreach (var c in Cases)
        {
            double gflops = Measure(c, secondsPerCase);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"sgemm\",\"case\":\"{c.Name}\",\"m\":{c.M},\"n\":{c.N},\"k\":{c.K},\"transA\":{(c.TransA ? "true" : "false")},\"transB\":{(c.TransB ? "true" : "false")},\"threads\":{threads},\"isa\":\"{isa}\",\"gflops\":{gflops:F1},\"efficiency\":{gflops / peak:F3}}}"));
        }
    }

    /// <summary>Median GFLOP/s over repeated timed batches of multiplies.</summary>
    public static double Measure(Case c, double seconds)
    {
        var rng = new Rng(1);
        var a = Tensor<float>.RandomUniform(rng, -1, 1, c.M * c.K);
        var b = Tensor<float>.RandomUniform(rng, -1, 1, c.K * c.N);
        var dst = new Tensor<float>(c.M * c.N);
        int lda = c.TransA ? c.M : c.K, ldb = c.TransB ? c.K : c.N;
        void Once() => Gemm.Multiply(c.TransA, c.TransB, c.M, c.N, c.K, 1f, a.ReadOnlySpan, lda, b.ReadOnlySpan, ldb, 0f, dst.Span, c.N);

        double flops = 2.0 * c.M * c.N * c.K;
        // Calibrate a batch to ~20 ms.
        Once();
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.Elapsed.TotalMilliseconds < 20) { Once(); reps++; }
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || samples.Count < 5)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++) Once();
            samples.Add(flops * reps / sw.Elapsed.TotalSeconds / 1e9);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
