using System.Diagnostics;
using System.Globalization;
using NeuralNet.Tensors;

namespace NeuralNet.Benchmarks;

/// <summary>
/// One convolution's kernels timed apart (medians of interleaved repetitions): the forward pass, the backward pass
/// with the weight gradient only, and with the input gradient as well, each with its GFLOP/s (2·N·O·C·k²·Ho·Wo per
/// GEMM-like product). <c>--packed</c> turns the direct forms off (every product a packed GEMM). Defaults: the second convolution of the MNIST CNN (32→64, 3×3, pad 1, 14×14, batch 128).
/// </summary>
public static class ConvBench
{
    public static void Run(int batch, int inChannels, int outChannels, int kernel, int padding, int size, int reps, bool packed = false)
    {
        var rng = new Rng(7);
        var ws = new Conv2dWorkspace<float>(inChannels, outChannels, kernel, 1, padding);
        ws.Kernel.UseDirect = !packed;
        int outSize = ws.OutputSize(size);
        var x = Tensor<float>.Zeros(batch, inChannels, size, size);
        var w = Tensor<float>.Zeros(outChannels, inChannels, kernel, kernel);
        var y = Tensor<float>.Zeros(batch, outChannels, outSize, outSize);
        var g = Tensor<float>.Zeros(batch, outChannels, outSize, outSize);
        var dw = Tensor<float>.Zeros(outChannels, inChannels, kernel, kernel);
        var dx = Tensor<float>.Zeros(batch, inChannels, size, size);
        foreach (var t in new[] { x, w, g })
        {
            var s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] = (float)rng.NextNormal();
        }
        double flop = 2.0 * batch * outChannels * inChannels * kernel * kernel * outSize * outSize;
        var times = new List<double>[3] { [], [], [] };
        for (int r = 0; r < reps + 3; r++)
        {
            double f = Time(() => TensorOps.Conv2dForward(ws, x, w, null, y));
            double bw = Time(() => TensorOps.Conv2dBackward(ws, g, w, dw, null, null));
            double bx = Time(() => TensorOps.Conv2dBackward(ws, g, w, dw, null, dx));
            if (r < 3) continue;
            times[0].Add(f); times[1].Add(bw); times[2].Add(bx);
        }
        string[] names = ["forward", "backward dW", "backward dW+dx"];
        double[] flops = [flop, flop, 2 * flop];
        Console.WriteLine($"conv {inChannels}→{outChannels} {kernel}×{kernel} pad {padding} on {size}×{size}, batch {batch}, {TensorOps.Threads} threads, medians of {reps}{(packed ? ", packed GEMMs only" : "")}");
        for (int i = 0; i < 3; i++)
        {
            double ms = Median(times[i]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{names[i],-16} {ms,8:F3} ms  {flops[i] / ms / 1e6,7:F1} GFLOP/s"));
        }
        double dxMs = Median(times[2]) - Median(times[1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"dx alone",-16} {dxMs,8:F3} ms  {flop / dxMs / 1e6,7:F1} GFLOP/s"));
    }

    private static double Time(Action a)
    {
        long t0 = Stopwatch.GetTimestamp();
        a();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
