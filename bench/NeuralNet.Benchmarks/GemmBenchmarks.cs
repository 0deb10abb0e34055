using BenchmarkDotNet.Attributes;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Benchmarks;

/// <summary>
/// BenchmarkDotNet view of the float32 GEMM at the MLP's shapes and a square, fast kernel against the reference
/// triple loop (the reference only at the smallest shape: it is ~100× slower). Run:
/// <c>dotnet run -c Release --project bench/NeuralNet.Benchmarks -- --filter '*GemmBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>"m,n,k,transA,transB".</summary>
    [Params("128,128,784,F,T", "784,128,128,T,F", "128,784,128,F,F", "512,512,512,F,F")]
    public string Shape { get; set; } = "128,128,784,F,T";

    [Params(1, 2)]
    public int Threads { get; set; }

    private (int M, int N, int K, bool TA, bool TB) Dims
    {
        get
        {
            var p = Shape.Split(',');
            return (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]), p[3] == "T", p[4] == "T");
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k, _, _) = Dims;
        var rng = new Rng(1);
        _a = Tensor<float>.RandomUniform(rng, -1, 1, m * k).ToArray();
        _b = Tensor<float>.RandomUniform(rng, -1, 1, k * n).ToArray();
        _c = new float[m * n];
        TensorOps.Threads = Threads;
    }

    [Benchmark(Baseline = true)]
    public void Fast()
    {
        var (m, n, k, ta, tb) = Dims;
        Gemm.Multiply(ta, tb, m, n, k, 1f, _a, ta ? m : k, _b, tb ? k : n, 0f, _c, n);
    }

    [Benchmark]
    public void Reference()
    {
        var (m, n, k, ta, tb) = Dims;
        if (m * n * k > 128 * 128 * 784) return; // too slow to be worth timing at the larger shapes
        GemmReference.Multiply(ta, tb, m, n, k, 1f, _a, ta ? m : k, _b, tb ? k : n, 0f, _c, n);
    }
}
