using System.Diagnostics;
using System.Globalization;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Activations;
using NeuralNet.Modules;
using NeuralNet.Optim;

namespace NeuralNet.Benchmarks;

/// <summary>
/// Where one training step of a <see cref="Sequential{T}"/> goes: each child's Forward and (in reverse) Backward timed
/// on its own, plus the batch gather, ZeroGrad, the loss (forward + backward) and the optimizer step, in the order
/// Trainer.Fit runs them. Prints one line per part with the median over the timed steps, the median whole step,
/// images/s and the bytes a warm step allocates; then the same as JSON lines.
/// </summary>
public static class StepProfile
{
    /// <summary>
    /// Runs <paramref name="warmup"/> untimed steps, then <paramref name="steps"/> timed ones. Timing a child alone is
    /// what Sequential does anyway (a loop over the children, a BatchNorm and the ReLU after it as one fused pass each
    /// way, whose time shows on the BatchNorm's row), so the step is the one training runs.
    /// </summary>
    public static void Run(string op, Sequential<float> model, CrossEntropyLoss<float> loss, Optimizer<float> optimizer,
        DataLoader<float> loader, int warmup, int steps)
    {
        int layers = model.Count;
        // Columns of one step: batch, zero_grad, forward × layers, loss, backward × layers, step, total.
        int fwd = 2, lossCol = 2 + layers, bwd = 3 + layers, stepCol = 3 + 2 * layers, totalCol = 4 + 2 * layers;
        var t = new double[steps, totalCol + 1];
        var stamps = new long[totalCol + 1];
        long allocated = 0;
        int done = 0, batchSize = loader.BatchSize;
        model.Train();
        for (int epoch = 0; done < warmup + steps; epoch++)
        {
            var e = loader.GetEpoch(epoch).GetEnumerator();
            while (done < warmup + steps)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                stamps[0] = Stopwatch.GetTimestamp();
                if (!e.MoveNext()) break;
                var b = e.Current;
                if (b.Size != batchSize) continue; // a short last batch would skew the medians
                stamps[1] = Stopwatch.GetTimestamp();
                optimizer.ZeroGrad();
                stamps[2] = Stopwatch.GetTimestamp();
                var x = b.Features;
                for (int i = 0; i < layers; i++)
                {
                    if (model[i] is BatchNorm<float> norm && i + 1 < layers && model[i + 1] is ReLU<float> relu)
                    {
                        // As Sequential.Forward runs the pair: one fused pass, charged to the BatchNorm's row.
                        x = relu.Adopt(norm.ForwardReLU(x));
                        stamps[fwd + i + 1] = stamps[fwd + i + 2] = Stopwatch.GetTimestamp();
                        i++;
                        continue;
                    }
                    x = model[i].Forward(x);
                    stamps[fwd + i + 1] = Stopwatch.GetTimestamp();
                }
                loss.Forward(x, b.Labels);
                var g = loss.Backward();
                stamps[lossCol + 1] = Stopwatch.GetTimestamp();
                for (int i = layers - 1; i >= 0; i--)
                {
                    if (model[i] is MaxPool2d<float> pool && i > 1 && model[i - 1] is ReLU<float> && model[i - 2] is BatchNorm<float> pooled)
                    {
                        // As Sequential.Backward runs the three: one pass, charged to the BatchNorm's row.
                        g = pooled.BackwardReLUMaxPool(g, pool);
                        int poolRow = bwd + (layers - 1 - i) + 1;
                        stamps[poolRow] = stamps[poolRow - 1];         // the pooling's row: 0
                        stamps[poolRow + 1] = stamps[poolRow - 1];     // the ReLU's row: 0
                        stamps[poolRow + 2] = Stopwatch.GetTimestamp(); // the BatchNorm's row: all three
                        i -= 2;
                        continue;
                    }
                    if (model[i] is ReLU<float> && i > 0 && model[i - 1] is BatchNorm<float> fused)
                    {
                        // As Sequential.Backward runs the fused pair: one pass, charged to the BatchNorm's row.
                        g = fused.BackwardReLU(g);
                        int relu = bwd + (layers - 1 - i) + 1;
                        stamps[relu] = stamps[relu - 1];             // the ReLU's row: 0
                        stamps[relu + 1] = Stopwatch.GetTimestamp(); // the BatchNorm's row: the pair
                        i--;
                        continue;
                    }
                    g = model[i].Backward(g);
                    stamps[bwd + (layers - 1 - i) + 1] = Stopwatch.GetTimestamp();
                }
                optimizer.Step();
                stamps[stepCol + 1] = Stopwatch.GetTimestamp();
                if (done >= warmup)
                {
                    allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                    int s = done - warmup;
                    double ms = 1e3 / Stopwatch.Frequency;
                    for (int c = 0; c < totalCol; c++) t[s, c] = (stamps[c + 1] - stamps[c]) * ms;
                    t[s, totalCol] = (stamps[totalCol] - stamps[0]) * ms;
                }
                done++;
            }
        }

        double Median(Func<int, double> value)
        {
            var v = new double[steps];
            for (int s = 0; s < steps; s++) v[s] = value(s);
            Array.Sort(v);
            return steps % 2 == 1 ? v[steps / 2] : (v[steps / 2 - 1] + v[steps / 2]) / 2;
        }

        double total = Median(s => t[s, totalCol]);
        double mean = 0, p90 = 0;
        {
            var all = new double[steps];
            for (int s = 0; s < steps; s++) { mean += t[s, totalCol] / steps; all[s] = t[s, totalCol]; }
            Array.Sort(all);
            p90 = all[(int)(0.9 * (steps - 1))];
        }
        var rows = new List<(string Name, double Forward, double Backward)>
        {
            ("batch gather (DataLoader)", Median(s => t[s, 0]), double.NaN),
            ("optimizer.ZeroGrad", Median(s => t[s, 1]), double.NaN),
        };
        for (int i = 0; i < layers; i++)
        {
            int f = fwd + i, k = bwd + (layers - 1 - i);
            rows.Add(($"{i} {Name(model[i])}", Median(s => t[s, f]), Median(s => t[s, k])));
        }
        rows.Add(($"loss {(loss.LabelSmoothing > 0 ? $"CrossEntropy ε={loss.LabelSmoothing.ToString(CultureInfo.InvariantCulture)}" : "CrossEntropy")} fwd+bwd", Median(s => t[s, lossCol]), double.NaN));
        rows.Add(($"optimizer.Step {optimizer.GetType().Name.Split('`')[0]}", Median(s => t[s, stepCol]), double.NaN));
        double allForward = Median(s => Sum(t, s, fwd, layers)), allBackward = Median(s => Sum(t, s, bwd, layers));

        var inv = CultureInfo.InvariantCulture;
        int width = Math.Max(28, rows.Max(r => r.Name.Length) + 2);
        Console.WriteLine(string.Create(inv, $"{op}: batch {batchSize}, {TensorThreads()} thread{(TensorThreads() == 1 ? "" : "s")}, medians of {steps} steps after {warmup} warm-up steps"));
        Console.WriteLine($"{"part".PadRight(width)}{"forward ms",12}{"backward ms",13}{"share",8}");
        foreach (var (name, f, bk) in rows)
        {
            double both = f + (double.IsNaN(bk) ? 0 : bk);
            Console.WriteLine(string.Create(inv, $"{name.PadRight(width)}{f,12:F3}{(double.IsNaN(bk) ? "" : bk.ToString("F3", inv)),13}{both / total,8:P1}"));
        }
        Console.WriteLine(string.Create(inv, $"{"all layers".PadRight(width)}{allForward,12:F3}{allBackward,13:F3}{(allForward + allBackward) / total,8:P1}"));
        double partsSum = rows.Sum(r => r.Forward + (double.IsNaN(r.Backward) ? 0 : r.Backward));
        Console.WriteLine(string.Create(inv,
            $"step {total:F3} ms (median; mean {mean:F3}, 90th percentile {p90:F3}; sum of the part medians {partsSum:F3} ms), {batchSize / total * 1e3:F0} images/s, {allocated / (double)steps:F1} bytes allocated per step"));

        foreach (var (name, f, bk) in rows)
        {
            Console.WriteLine(string.Create(inv,
                $"{{\"op\":\"{op}\",\"part\":{System.Text.Json.JsonSerializer.Serialize(name, MachineInfo.JsonText)},\"forward_ms\":{f:F4},\"backward_ms\":{(double.IsNaN(bk) ? "null" : bk.ToString("F4", inv))}}}"));
        }
        Console.WriteLine(string.Create(inv,
            $"{{\"op\":\"{op}\",\"batch\":{batchSize},\"threads\":{TensorThreads()},\"forward_ms\":{allForward:F4},\"backward_ms\":{allBackward:F4},\"step_ms\":{total:F4},\"images_per_s\":{batchSize / total * 1e3:F0},\"allocated_bytes_per_step\":{allocated / (double)steps:F1}}}"));
    }

    /// <summary>A short name for a table row, e.g. "Conv2d 32→64 3×3" (the layers' ToString is PyTorch's long form).</summary>
    private static string Name(Module<float> m) => m switch
    {
        Conv2d<float> c => string.Create(CultureInfo.InvariantCulture, $"Conv2d {c.InChannels}→{c.OutChannels} {c.KernelSize}×{c.KernelSize}"),
        Linear<float> l => string.Create(CultureInfo.InvariantCulture, $"Linear {l.InFeatures}→{l.OutFeatures}"),
        BatchNorm2d<float> b => string.Create(CultureInfo.InvariantCulture, $"BatchNorm2d {b.NumFeatures}"),
        MaxPool2d<float> p => string.Create(CultureInfo.InvariantCulture, $"MaxPool2d {p.KernelSize}"),
        Dropout<float> d => string.Create(CultureInfo.InvariantCulture, $"Dropout {d.P}"),
        _ => m.GetType().Name.Split('`')[0],
    };

    private static double Sum(double[,] t, int s, int from, int count)
    {
        double sum = 0;
        for (int c = from; c < from + count; c++) sum += t[s, c];
        return sum;
    }

    private static int TensorThreads() => NeuralNet.Tensors.TensorOps.Threads;
}
