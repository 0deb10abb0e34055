using System.Globalization;
using BenchmarkDotNet.Running;
using NeuralNet.Benchmarks;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

// quick [--threads N] [--seconds S] [--isa scalar|avx2|avx512]: the machine, the FMA peak and sgemm GFLOP/s with
//   efficiency, one JSON line each, in well under a minute.
// mlp [--threads N] [--batch 128] [--steps 500] [--warmup 1000] [--isa …]: per-layer profile of an MNIST-MLP step.
// cnn [--threads N] [--batch 128] [--steps 20] [--warmup 5] [--isa …] [--fast]: per-layer profile of an MNIST-CNN step
//   (--fast: the small CNN of nn train --model cnn --fast).
// conv [--threads N] [--batch 128] [--in 32] [--out 64] [--kernel 3] [--pad 1] [--size 14] [--reps 30] [--packed] [--isa …]: one
//   convolution's forward, weight-gradient and input-gradient kernels timed apart (default: the CNN's second).
// machine [--isa …]: the machine as one JSON line (for the comparison scripts).
// peak [--threads N]: the FMA peak of every vector width, 1…N threads, one JSON line each.
// serve --url http://127.0.0.1:PORT/ [--clients 1,8,32] [--seconds 5] [--warmup 1] [--label NAME]: load on a running
//   nn serve's POST /api/predict (JSON), one JSON line per client count: requests/s, p50 and p99 latency (bench/serve_load.sh).
// anything else: BenchmarkDotNet (e.g. --filter '*Gemm*').
string mode = args.Length > 0 ? args[0] : "";
if (mode is not ("quick" or "mlp" or "cnn" or "conv" or "machine" or "peak" or "serve"))
{
    BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
    return 0;
}
try
{
    int threads = Option("--threads", Environment.ProcessorCount);
    if (threads < 1) throw new ArgumentException($"--threads must be ≥ 1, got {threads}");
    TensorOps.Threads = threads;
    string? isa = Text("--isa");
    if (isa is not null) MachineInfo.SetIsa(isa);
    switch (mode)
    {
        case "quick":
            QuickBench.Run(threads, double.Parse(Text("--seconds") ?? "1.5", CultureInfo.InvariantCulture));
            break;
        case "serve":
            Console.WriteLine(MachineInfo.Describe());
            ServeLoad.Run(Text("--url") ?? throw new ArgumentException("serve needs --url http://127.0.0.1:PORT/"),
                (Text("--clients") ?? "1,8,32").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray(),
                double.Parse(Text("--seconds") ?? "5", CultureInfo.InvariantCulture), double.Parse(Text("--warmup") ?? "1", CultureInfo.InvariantCulture),
                Text("--label") ?? "");
            break;
        case "machine":
            Console.WriteLine($"{{\"machine\":{MachineInfo.Json()}}}");
            break;
        case "peak":
            Console.WriteLine(MachineInfo.Describe());
            foreach (var level in new[] { SimdLevel.Vector256, SimdLevel.Vector512 })
            {
                if (level == SimdLevel.Vector512 && Simd.Best < SimdLevel.Vector512) continue;
                bool active = level == (Simd.Active == SimdLevel.Vector512 ? SimdLevel.Vector512 : SimdLevel.Vector256);
                for (int n = 1; n <= threads; n++) Console.WriteLine(FmaPeak.JsonLine(n, level, FmaPeak.Measure(n, level, 0.3), active));
            }
            break;
        case "mlp":
            Console.WriteLine(MachineInfo.Describe());
            MlpStepBench.Run(Option("--batch", 128), Option("--warmup", 1000), Option("--steps", 500));
            break;
        case "conv":
            Console.WriteLine(MachineInfo.Describe());
            ConvBench.Run(Option("--batch", 128), Option("--in", 32), Option("--out", 64), Option("--kernel", 3), int.Parse(Text("--pad") ?? "1", CultureInfo.InvariantCulture),
                Option("--size", 14), Option("--reps", 30), args.Contains("--packed"));
            break;
        case "cnn":
            Console.WriteLine(MachineInfo.Describe());
            CnnStepBench.Run(Option("--batch", 128), Option("--warmup", 5), Option("--steps", 20), args.Contains("--fast"));
            break;
    }
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

string? Text(string name)
{
    int i = Array.IndexOf(args, name);
    if (i < 0) return null;
    if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
    return args[i + 1];
}

int Option(string name, int fallback)
{
    string? v = Text(name);
    if (v is null) return fallback;
    int n = int.Parse(v, CultureInfo.InvariantCulture);
    if (n < 1) throw new ArgumentException($"{name} must be ≥ 1, got {n}");
    return n;
}
