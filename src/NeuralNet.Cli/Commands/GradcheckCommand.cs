using System.CommandLine;
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.GradCheck;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Cli.Commands;

/// <summary><c>nn gradcheck</c>: central-difference checks of every layer type and a small network, in float64.</summary>
internal static class GradcheckCommand
{
    public const double Tolerance = 1e-7;

    public static Command Create()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed for inputs and weights", DefaultValueFactory = _ => 1 };
        var cmd = new Command("gradcheck", "Check every derivative against central differences in float64 and print the table of relative errors.");
        cmd.Options.Add(seed);
        cmd.SetAction(p => Cli.Guard(() => Run(p.GetValue(seed))));
        return cmd;
    }

    public static IEnumerable<GradCheckReport> Reports(ulong seed)
    {
        var rng = new Rng(seed);
        Tensor<double> X(int n, int d) => AwayFromZero(Tensor<double>.RandomNormal(rng, 0, 1, n, d));
        yield return GradCheck.GradCheck.Check(new Linear<double>(7, 5, InitFns.XavierNormal(), rng: rng), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new ReLU<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new LeakyReLU<double>(0.1), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Sigmoid<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Tanh<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Softmax<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(null, new CrossEntropyLoss<double>(), X(6, 5), [0, 4, 2, 2, 1, 3]);
        yield return GradCheck.GradCheck.Check(null, new CrossEntropyLoss<double>(0.1), X(6, 5), [0, 4, 2, 2, 1, 3]);
        yield return GradCheck.GradCheck.Check(null, new MSELoss<double>(), X(6, 3), X(6, 3));
        yield return GradCheck.GradCheck.Check(null, new BCEWithLogitsLoss<double>(), X(6, 3), Tensor<double>.RandomUniform(rng, 0, 1, 6, 3));
        var mlp = new Sequential<double>(
            new Linear<double>(8, 16, InitFns.HeNormal(), rng: rng), new ReLU<double>(),
            new Linear<double>(16, 12, InitFns.XavierUniform(), rng: rng), new Tanh<double>(),
            new Linear<double>(12, 4, InitFns.XavierNormal(), rng: rng));
        var net = GradCheck.GradCheck.Check(mlp, new CrossEntropyLoss<double>(), X(5, 8), [0, 3, 1, 2, 3]);
        yield return new GradCheckReport("MLP 8→16→12→4 (ReLU, Tanh) + CrossEntropyLoss", net.Results);
    }

    private static Tensor<double> AwayFromZero(Tensor<double> t)
    {
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] += Math.CopySign(0.1, s[i]); // |x| ≥ 0.1: probes never cross ReLU's kink
        return t;
    }

    public static int Run(ulong seed)
    {
        Console.WriteLine("| module | tensor | entries | relative error | result |");
        Console.WriteLine("|---|---|---:|---:|---|");
        bool ok = true;
        foreach (var report in Reports(seed))
        {
            foreach (var r in report.Results)
            {
                bool pass = r.RelativeError < Tolerance;
                ok &= pass;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {report.Subject} | {r.Name} | {r.Count} | {r.RelativeError:E2} | {(pass ? "pass" : "FAIL")} |"));
            }
        }
        Console.WriteLine(ok ? $"\nAll gradients match central differences (relative error < {Tolerance:E0}, float64, h = 1e-6)." : "\nSome gradients do not match.");
        return ok ? 0 : 1;
    }
}
