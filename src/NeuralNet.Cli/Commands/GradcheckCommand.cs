using System.CommandLine;
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.GradCheck;
using NeuralNet.GradCheck.Bugs;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn gradcheck</c>: central-difference checks of every layer type and a small network, in float64.
/// <c>nn gradcheck --bug NAME</c> runs the same table with one of the deliberately wrong backward passes of
/// <see cref="BackwardBug"/> in place, and says which rows fail and why.
/// </summary>
internal static class GradcheckCommand
{
    public const double Tolerance = 1e-7;

    public static Command Create()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed for inputs and weights", DefaultValueFactory = _ => 1 };
        var bug = new Option<string?>("--bug") { Description = "Run the table with a deliberately wrong backward pass in place ('list' lists them); exits 0 when the check catches it" };
        var cmd = new Command("gradcheck", "Check every derivative against central differences in float64 and print the table of relative errors.");
        cmd.Options.Add(seed);
        cmd.Options.Add(bug);
        cmd.SetAction(p => Cli.Guard(() => p.GetValue(bug) switch
        {
            null => Run(p.GetValue(seed)),
            "list" => ListBugs(),
            string name => RunWithBug(p.GetValue(seed), FindBug(name)),
        }));
        return cmd;
    }

    /// <summary>The bug named <paramref name="name"/>; an unknown name is a one-line error listing the known ones.</summary>
    public static BackwardBug FindBug(string name) => BackwardBug.Find(name)
        ?? throw new CliException($"unknown bug '{name}' (known: {string.Join(", ", BackwardBug.All.Select(b => b.Name))})");

    /// <summary>Prints each bug: name, layer, mistake.</summary>
    public static int ListBugs()
    {
        foreach (var b in BackwardBug.All) Console.WriteLine($"{b.Name,-30} {b.Layer,-17} {b.Mistake}");
        return 0;
    }

    /// <summary>The table of <c>nn gradcheck</c>; with <paramref name="bug"/>, every layer of its kind has its wrong backward.</summary>
    public static IEnumerable<GradCheckReport> Reports(ulong seed, BackwardBug? bug = null)
    {
        var rng = new Rng(seed);
        // With a bug, the same modules and the same draws from rng, so the rows it does not touch print the same numbers.
        Module<double> B(Module<double> m) => bug?.Apply(m) ?? m;
        CrossEntropyLoss<double> CE(double smoothing) => bug?.Apply(new CrossEntropyLoss<double>(smoothing)) ?? new CrossEntropyLoss<double>(smoothing);
        Tensor<double> X(int n, int d) => AwayFromZero(Tensor<double>.RandomNormal(rng, 0, 1, n, d));
        // Distinct values (no ties for max pooling), away from zero.
        Tensor<double> Images(int n, int c, int h, int w) => AwayFromZero(Tensor<double>.RandomNormal(rng, 0, 1, n, c, h, w));
        yield return GradCheck.GradCheck.Check(B(new Linear<double>(7, 5, InitFns.XavierNormal(), rng: rng)), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(B(new ReLU<double>()), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new LeakyReLU<double>(0.1), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(B(new Sigmoid<double>()), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Tanh<double>(), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(B(new Softmax<double>()), X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(new Conv2d<double>(2, 3, 3, stride: 2, padding: 1, init: InitFns.HeNormal(), rng: rng), Images(2, 2, 7, 7), rng);
        yield return GradCheck.GradCheck.Check(new MaxPool2d<double>(2), Images(2, 2, 6, 6), rng);
        yield return GradCheck.GradCheck.Check(new AvgPool2d<double>(2), Images(2, 2, 6, 6), rng);
        yield return GradCheck.GradCheck.Check(new Flatten<double>(), Images(2, 2, 3, 3), rng);
        yield return GradCheck.GradCheck.Check(B(new BatchNorm1d<double>(5)), X(6, 5), rng);
        yield return GradCheck.GradCheck.Check(B(new BatchNorm2d<double>(3)), Images(3, 3, 4, 4), rng);
        var bnEval = new BatchNorm2d<double>(3);
        bnEval.Forward(Images(4, 3, 4, 4)); // running statistics from one training batch
        bnEval.Eval();
        var evalReport = GradCheck.GradCheck.Check(B(bnEval), Images(3, 3, 4, 4), rng);
        yield return new GradCheckReport("BatchNorm2d (eval mode)" + Marker(bug, bnEval), evalReport.Results);
        yield return GradCheck.GradCheck.Check(new Dropout<double>(0.3, new Rng(seed)) { FreezeMask = true }, X(6, 7), rng);
        yield return GradCheck.GradCheck.Check(null, CE(0), X(6, 5), [0, 4, 2, 2, 1, 3]);
        yield return GradCheck.GradCheck.Check(null, CE(0.1), X(6, 5), [0, 4, 2, 2, 1, 3]);
        yield return GradCheck.GradCheck.Check(null, new MSELoss<double>(), X(6, 3), X(6, 3));
        yield return GradCheck.GradCheck.Check(null, new BCEWithLogitsLoss<double>(), X(6, 3), Tensor<double>.RandomUniform(rng, 0, 1, 6, 3));
        var mlp = new Sequential<double>(
            new Linear<double>(8, 16, InitFns.HeNormal(), rng: rng), new ReLU<double>(),
            new Linear<double>(16, 12, InitFns.XavierUniform(), rng: rng), new Tanh<double>(),
            new Linear<double>(12, 4, InitFns.XavierNormal(), rng: rng));
        var net = GradCheck.GradCheck.Check(B(mlp), CE(0), X(5, 8), [0, 3, 1, 2, 3]);
        string mlpMarker = bug?.Name == BackwardBug.CrossEntropyNotAveraged ? $" [bug: {bug.Name}]" : Marker(bug, mlp);
        yield return new GradCheckReport("MLP 8→16→12→4 (ReLU, Tanh) + CrossEntropyLoss" + mlpMarker, net.Results);
        if (bug?.Name == BackwardBug.WeightGradientFromOutput)
        {
            // dyᵀ·y fits W's gradient only when in = out: none of the layers above is square, so one more row.
            yield return GradCheck.GradCheck.Check(B(new Linear<double>(7, 7, InitFns.XavierNormal(), rng: rng)), X(6, 7), rng);
        }
    }

    /// <summary>" [bug: NAME]" when <paramref name="bug"/> changes <paramref name="module"/>, else "".</summary>
    private static string Marker(BackwardBug? bug, Module<double> module) => bug is not null && bug.Affects(module) ? $" [bug: {bug.Name}]" : "";

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

    /// <summary>
    /// The table with <paramref name="bug"/> in place, a column with each row's worst entry (analytic vs numeric), then
    /// the failing rows and why they fail. Exits 0 when the check catches the bug (some row fails), 1 when it does not.
    /// </summary>
    public static int RunWithBug(ulong seed, BackwardBug bug)
    {
        Console.WriteLine($"Gradient check with the bug '{bug.Name}' in every {bug.Layer}: {bug.Mistake}.");
        Console.WriteLine();
        Console.WriteLine("| module | tensor | entries | relative error | result | worst entry: analytic vs numeric |");
        Console.WriteLine("|---|---|---:|---:|---|---|");
        var failed = new List<(string Subject, GradCheckResult Result)>();
        int rows = 0;
        foreach (var report in Reports(seed, bug))
        {
            foreach (var r in report.Results)
            {
                rows++;
                bool pass = r.RelativeError < Tolerance;
                if (!pass) failed.Add((report.Subject, r));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {report.Subject} | {r.Name} | {r.Count} | {r.RelativeError:E2} | {(pass ? "pass" : "FAIL")} | [{r.WorstIndex}] {r.WorstAnalytic:G4} vs {r.WorstNumeric:G4} |"));
            }
        }
        Console.WriteLine();
        if (failed.Count == 0)
        {
            Console.WriteLine($"No row fails: the check did not catch '{bug.Name}'.");
            return 1;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{failed.Count} of {rows} rows fail (tolerance {Tolerance:E0}), relative error {failed.Min(f => f.Result.RelativeError):G3} to {failed.Max(f => f.Result.RelativeError):G3}:"));
        foreach (var (subject, r) in failed)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {subject} {r.Name}: {r.RelativeError:G3}"));
        Console.WriteLine($"Why: {bug.Symptom}.");
        return 0;
    }
}
