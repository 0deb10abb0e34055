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
        // Distinct values (no ties for max pooling), away from zero.
        Tensor<double> Images(int n, int c, int h, int w) => AwayFromZero(Tensor<double>.RandomNormal(rng, 0, 1, n, c, h, w));
        yield return GradCheck.GradCheck.Check(new Linear<double>(7, 5, InitFns.XavierNormal(), rng: rng), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new ReLU<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new LeakyReLU<double>(0.1), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Sigmoid<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Tanh<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Softmax<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Conv2d<double>(2, 3, 3, stride: 2, padding: 1, init: InitFns.HeNormal(), rng: rng), Images(2, 2, 7, 7), rng);
        yield return GradCheck.GradCheck.Check(new MaxPool2d<double>(2), Images(2, 2, 6, 6), rng);
        yield return GradCheck.GradCheck.Check(new AvgPool2d<double>(2), Images(2, 2, 6, 6), rng);
        yield return GradCheck.GradCheck.Check(new Flatten<double>(), Images(2, 2, 3, 3), rng);
        yield return GradCheck.GradCheck.Check(new BatchNorm1d<double>(5), X(6, 5), rng);
        yield return GradCheck.GradCheck.Check(new BatchNorm2d<double>(3), Images(3, 3, 4, 4), rng);
        var bnEval = new BatchNorm2d<double>(3);
        bnEval.Forward(Images(4, 3, 4, 4)); // running statistics from one training batch
        bnEval.Eval();
        var evalReport = GradCheck.GradCheck.Check(bnEval, Images(3, 3, 4, 4), rng);
        yield return new GradCheckReport("BatchNorm2d (eval mode)", evalReport.Results);
        yield return GradCheck.GradCheck.Check(new Dropout<double>(0.3, new Rng(seed)) { FreezeMask = true }, X(6, 7), rng);
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
        => Spread(t);

    private static Tensor<double> Spread(Tensor<double> t)
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
