using System.Diagnostics;
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Benchmarks;

/// <summary>
/// Times the parts of one MNIST-MLP training step (784→128→64→10, batch 128, Adam) on random data and checks
/// that a warm step allocates nothing. Prints one JSON line per part (median microseconds).
/// </summary>
public static class MlpStepBench
{
    public static void Run(int threads, int steps = 1500)
    {
        TensorOps.Threads = threads;
        var rng = new Rng(1);
        var first = new Linear<float>(784, 128, NeuralNet.Init.Init.HeNormal(), rng: rng) { ComputeInputGradient = false };
        var model = new Sequential<float>(first, new ReLU<float>(), new Linear<float>(128, 64, NeuralNet.Init.Init.HeNormal(), rng: rng),
            new ReLU<float>(), new Linear<float>(64, 10, NeuralNet.Init.Init.HeNormal(), rng: rng));
        var loss = new CrossEntropyLoss<float>();
        var opt = new Adam<float>(model.Parameters());
        var labels = Enumerable.Range(0, 12800).Select(i => rng.NextInt(10)).ToArray();
        var data = new Dataset<float>(Tensor<float>.RandomUniform(rng, 0, 1, 12800, 784), labels, 10);
        var loader = new DataLoader<float>(data, 128, shuffle: true, seed: 3);

        var parts = new Dictionary<string, List<double>> { ["batch"] = [], ["forward"] = [], ["loss"] = [], ["backward"] = [], ["step"] = [], ["total"] = [] };
        long allocated = 0;
        var sw = new Stopwatch();
        for (int epoch = 0, done = 0; done < steps; epoch++)
        {
            var e = loader.GetEpoch(epoch).GetEnumerator();
            while (done < steps)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                long t0 = Stopwatch.GetTimestamp();
                if (!e.MoveNext()) break;
                var b = e.Current;
                long t1 = Stopwatch.GetTimestamp();
                opt.ZeroGrad();
                var logits = model.Forward(b.Features);
                long t2 = Stopwatch.GetTimestamp();
                loss.Forward(logits, b.Labels);
                var g = loss.Backward();
                long t3 = Stopwatch.GetTimestamp();
                model.Backward(g);
                long t4 = Stopwatch.GetTimestamp();
                opt.Step();
                long t5 = Stopwatch.GetTimestamp();
                if (done >= 1000) // after warm-up: tiered compilation settles after a few hundred steps
                {
                    allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                    double us = 1e6 / Stopwatch.Frequency;
                    parts["batch"].Add((t1 - t0) * us);
                    parts["forward"].Add((t2 - t1) * us);
                    parts["loss"].Add((t3 - t2) * us);
                    parts["backward"].Add((t4 - t3) * us);
                    parts["step"].Add((t5 - t4) * us);
                    parts["total"].Add((t5 - t0) * us);
                }
                done++;
            }
        }
        foreach (var (name, list) in parts)
        {
            list.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"mlp_step\",\"part\":\"{name}\",\"threads\":{threads},\"median_us\":{list[list.Count / 2]:F1}}}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"mlp_step\",\"allocated_bytes_per_step\":{allocated / (double)parts["total"].Count:F1},\"steps_per_epoch\":422,\"epoch_estimate_s\":{parts["total"][parts["total"].Count / 2] * 422 / 1e6:F3}}}"));
    }
}
