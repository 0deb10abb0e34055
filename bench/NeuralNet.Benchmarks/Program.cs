using BenchmarkDotNet.Running;
using NeuralNet.Benchmarks;

// quick [--threads N] [--seconds S]: one JSON line per case in well under a minute.
// mlp [--threads N]: the parts of one MNIST-MLP training step, and its allocations.
// anything else: BenchmarkDotNet (e.g. --filter '*Gemm*').
if (args.Length > 0 && args[0] == "quick")
{
    int threads = Environment.ProcessorCount;
    double seconds = 1.5;
    for (int i = 1; i < args.Length - 1; i++)
    {
        if (args[i] == "--threads") threads = int.Parse(args[i + 1]);
        if (args[i] == "--seconds") seconds = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    }
    QuickBench.Run(threads, seconds);
    return;
}
if (args.Length > 0 && args[0] == "mlp")
{
    int threads = args.Length > 2 && args[1] == "--threads" ? int.Parse(args[2]) : Environment.ProcessorCount;
    MlpStepBench.Run(threads);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
