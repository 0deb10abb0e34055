using System.CommandLine;
using System.Globalization;
using System.Text;
using NeuralNet.Cli.Plots;
using NeuralNet.Training;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn experiment optimizers|init</c>: the same MLP, data, seed and epochs under several optimizers or initializers;
/// overlaid curves and a markdown table of epochs-to-95% and final accuracy.
/// </summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var cmd = new Command("experiment", "Compare optimizers or initializers on the same model, data and seed.");
        cmd.Subcommands.Add(Sub("optimizers", "SGD vs SGD+momentum vs Adam", "optimizer_comparison.png",
        [
            ("SGD (lr 0.1)", s => s with { Optimizer = "sgd", LearningRate = 0.1 }),
            ("SGD + momentum 0.9 (lr 0.01)", s => s with { Optimizer = "momentum", LearningRate = 0.01 }),
            ("Adam (lr 1e-3)", s => s with { Optimizer = "adam", LearningRate = 1e-3 }),
        ], "sgd"));
        cmd.Subcommands.Add(Sub("init", "Xavier vs He vs naive N(0, 0.01²) on the ReLU MLP (plain SGD, where initialization matters most)", "init_comparison.png",
        [
            ("Xavier/Glorot uniform", s => s with { Init = "xavier" }),
            ("He/Kaiming normal", s => s with { Init = "he" }),
            ("naive N(0, 0.01²)", s => s with { Init = "naive" }),
        ], "init"));
        return cmd;
    }

    private static Command Sub(string name, string description, string figure, (string Label, Func<TrainSettings, TrainSettings> Apply)[] runs, string kind)
    {
        var dataset = new Option<string>("--dataset") { Description = "mnist or fashion-mnist", DefaultValueFactory = _ => "mnist" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run (no early stopping)", DefaultValueFactory = _ => 10 };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes", DefaultValueFactory = _ => "128,64" };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 42, Description = "Seed shared by every run" };
        var output = new Option<string>("--output") { Description = "Output folder", DefaultValueFactory = _ => "outputs" };
        var data = new Option<string?>("--data") { Description = "Folder holding mnist/ and fashion-mnist/" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training and test images" };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount, Description = "Threads for the kernels" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate for the init experiment's SGD (default 0.05)" };
        var cmd = new Command(name, description);
        foreach (var o in new Option[] { dataset, epochs, hidden, seed, output, data, limit, threads, lr }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() =>
        {
            var baseline = new TrainSettings
            {
                Dataset = p.GetValue(dataset)!, Epochs = p.GetValue(epochs), Hidden = ModelFactory.ParseHidden(p.GetValue(hidden)!),
                Seed = p.GetValue(seed), DataFolder = p.GetValue(data), Limit = p.GetValue(limit), Threads = p.GetValue(threads),
                Patience = null, Figures = false, Quiet = true,
                Optimizer = kind == "init" ? "sgd" : "adam", LearningRate = kind == "init" ? p.GetValue(lr) ?? 0.05 : null,
            };
            return Run(name, figure, runs, baseline, p.GetValue(output)!);
        }));
        return cmd;
    }

    private static int Run(string name, string figure, (string Label, Func<TrainSettings, TrainSettings> Apply)[] runs, TrainSettings baseline, string output)
    {
        var results = new List<(string Label, TrainCommand.Result Result)>();
        foreach (var (label, apply) in runs)
        {
            var s = apply(baseline) with { Output = Path.Combine(output, "experiments", name, Slug(label)) };
            Console.WriteLine($"{label}: training {s.Epochs} epochs…");
            var r = TrainCommand.Run(s);
            results.Add((label, r));
            var last = r.History.Epochs[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  val acc {last.ValidationAccuracy:P2}, test acc {r.Test.Accuracy:P2}, {r.History.Epochs.Sum(e => e.Seconds):F1}s"));
        }
        Directory.CreateDirectory(output);
        Figures.Comparison(results.Select(r => (r.Label, r.Result.History)).ToList(), Path.Combine(output, figure), name == "init" ? "Initialization (ReLU MLP, SGD)" : "Optimizers");

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"| {(name == "init" ? "initialization" : "optimizer")} | epochs to 95% val. acc. | final val. acc. | test acc. | final train loss |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (label, r) in results)
        {
            var first95 = r.History.Epochs.FirstOrDefault(e => e.ValidationAccuracy >= 0.95);
            var last = r.History.Epochs[^1];
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {(first95 is null ? "not reached" : (first95.Epoch + 1).ToString(CultureInfo.InvariantCulture))} | {last.ValidationAccuracy:P2} | {r.Test.Accuracy:P2} | {last.TrainLoss:F4} |"));
        }
        File.WriteAllText(Path.Combine(output, $"{name}_comparison.md"), md.ToString());
        Console.WriteLine();
        Console.Write(md.ToString());
        Console.WriteLine($"\nwrote {Path.Combine(output, figure)} and {Path.Combine(output, $"{name}_comparison.md")}");
        return 0;
    }

    private static string Slug(string label) =>
        new string(label.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');
}
