using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralNet.Checkpoints;
using NeuralNet.Modules;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn import WEIGHTS --arch mlp|cnn|FILE.json -o model.npz</c>: builds the named network, loads a PyTorch
/// <c>state_dict</c> (.npz from NumPy or .safetensors, told apart by content) into it by name, and writes a NeuralNet
/// checkpoint that <c>nn evaluate</c> reads.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var weights = new Argument<string>("WEIGHTS") { Description = "The PyTorch state_dict: .safetensors, or .npz from np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})" };
        var arch = new Option<string>("--arch") { Description = "The network: mlp or cnn (as nn train builds them), or an architecture JSON file ({\"type\":\"Sequential\",\"layers\":[…]})", Required = true };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes of the MLP", DefaultValueFactory = _ => "128,64" };
        var fast = new Option<bool>("--fast") { Description = "With --arch cnn: the small CNN of nn train --fast" };
        var dataset = new Option<string>("--dataset") { Description = "Data set the model was trained on, recorded for nn evaluate (mnist or fashion-mnist)", DefaultValueFactory = _ => "mnist" };
        var output = new Option<string>("--output", "-o") { Description = "Checkpoint to write: safetensors if the name ends in .safetensors, else .npz", Required = true };
        var cmd = new Command("import", "Load a PyTorch state_dict into a NeuralNet model and save it as a checkpoint.");
        cmd.Arguments.Add(weights);
        foreach (var o in new Option[] { arch, hidden, fast, dataset, output }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() => Run(p.GetValue(weights)!, p.GetValue(arch)!, p.GetValue(hidden)!, p.GetValue(fast), p.GetValue(dataset)!, p.GetValue(output)!)));
        return cmd;
    }

    public static int Run(string weights, string arch, string hidden, bool fast, string dataset, string output)
    {
        if (!File.Exists(weights)) throw new CliException($"weights file not found: {weights}", 1);
        Module<float> model = BuildModel(arch, hidden, fast);
        IReadOnlyList<string> skipped;
        try
        {
            skipped = Checkpoint.ImportStateDict(weights, model);
        }
        catch (Exception e) when (e is InvalidDataException or KeyNotFoundException)
        {
            throw new CliException(e.Message, 1);
        }

        string summary = Architecture.Summary(model);
        var metadata = new Dictionary<string, string> { ["dataset"] = dataset, ["model"] = summary, ["source"] = Path.GetFileName(weights) };
        bool safetensors = output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (safetensors) Checkpoint.SaveSafetensors(output, model, metadata);
        else Checkpoint.Save(output, model, metadata: metadata);

        int count = model.StateDict().Count();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{weights}: loaded {count} tensors into {summary} ({model.ParameterCount():N0} parameters)"));
        if (skipped.Count > 0) Console.WriteLine($"skipped (not used here): {string.Join(", ", skipped)}");
        Console.WriteLine($"wrote {output} ({(safetensors ? "safetensors" : "npz")})");
        return 0;
    }

    private static Module<float> BuildModel(string arch, string hidden, bool fast)
    {
        if (fast && arch != "cnn") throw new CliException($"--fast applies to --arch cnn only, not '{arch}'");
        // The initial weights do not matter: every one is overwritten.
        if (ModelFactory.Models.Contains(arch))
            return ModelFactory.Build(arch, 28 * 28, 10, ModelFactory.ParseHidden(hidden), ModelFactory.Init("he"), seed: 0, fast);
        if (!File.Exists(arch))
            throw new CliException($"--arch '{arch}' is neither a known model ({string.Join(", ", ModelFactory.Models)}) nor an existing architecture JSON file");
        try
        {
            JsonNode node = JsonNode.Parse(File.ReadAllText(arch)) ?? throw new InvalidDataException("the file holds JSON null");
            // Either a bare description or a whole architecture.json document from a checkpoint.
            return Architecture.Build<float>(node["model"] ?? node);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or ArgumentException)
        {
            throw new CliException($"{arch}: not a usable architecture: {e.Message}", 1);
        }
    }
}
