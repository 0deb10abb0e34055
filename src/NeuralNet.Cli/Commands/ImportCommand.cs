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
/// checkpoint that <c>nn evaluate</c> reads. <c>nn import MODEL.onnx -o model.npz</c>: an ONNX file (recognized by its
/// content, whatever its name) carries its own architecture, so no --arch: its graph becomes the model, and the input
/// shape the graph fixes is stored in the checkpoint.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var weights = new Argument<string>("WEIGHTS") { Description = "An ONNX model (torch.onnx.export of an nn.Sequential, or nn export), or a PyTorch state_dict: .safetensors, or .npz from np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})" };
        var arch = new Option<string?>("--arch") { Description = "For a state_dict, the network: mlp or cnn (as nn train builds them), or an architecture JSON file ({\"type\":\"Sequential\",\"layers\":[…]}); an ONNX model needs none" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes of the MLP", DefaultValueFactory = _ => "128,64" };
        var fast = new Option<bool>("--fast") { Description = "With --arch cnn: the small CNN of nn train --fast" };
        var dataset = new Option<string>("--dataset") { Description = "Data set the model was trained on, recorded for nn evaluate (mnist or fashion-mnist)", DefaultValueFactory = _ => "mnist" };
        var output = new Option<string>("--output", "-o") { Description = "Checkpoint to write: safetensors if the name ends in .safetensors, else .npz", Required = true };
        var cmd = new Command("import", "Import an ONNX model, or load a PyTorch state_dict into a NeuralNet model, and save it as a checkpoint.");
        cmd.Arguments.Add(weights);
        foreach (var o in new Option[] { arch, hidden, fast, dataset, output }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() =>
        {
            bool Given(Option o) => p.GetResult(o) is { Implicit: false };
            return Run(p.GetValue(weights)!, p.GetValue(arch), p.GetValue(hidden)!, p.GetValue(fast), p.GetValue(dataset)!, p.GetValue(output)!,
                Given(hidden));
        }));
        return cmd;
    }

    public static int Run(string weights, string? arch, string hidden, bool fast, string dataset, string output, bool hiddenGiven = false)
    {
        if (!File.Exists(weights)) throw new CliException($"weights file not found: {weights}", 1);
        if (IsOnnx(weights))
        {
            string? extra = arch is not null ? "--arch" : hiddenGiven ? "--hidden" : fast ? "--fast" : null;
            if (extra is not null) throw new CliException($"{weights} is an ONNX model, which carries its own architecture: {extra} does not apply");
            return RunOnnx(weights, dataset, output);
        }
        if (arch is null) throw new CliException($"{weights} is a state_dict (weights only): give the network with --arch mlp|cnn|FILE.json");
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

    /// <summary>True when the file's first bytes are those of an ONNX model (see <see cref="NeuralNet.Onnx.Onnx.LooksLikeOnnx"/>).</summary>
    private static bool IsOnnx(string path)
    {
        Span<byte> head = stackalloc byte[16];
        using var stream = File.OpenRead(path);
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return NeuralNet.Onnx.Onnx.LooksLikeOnnx(head[..n]);
    }

    private static int RunOnnx(string path, string dataset, string output)
    {
        NeuralNet.Onnx.OnnxImportResult<float> imported;
        try
        {
            imported = NeuralNet.Onnx.Onnx.Import<float>(path);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new CliException(e.Message, 1);
        }
        var model = imported.Model;
        var metadata = new Dictionary<string, string>
        {
            ["dataset"] = dataset, ["model"] = imported.Summary, ["source"] = Path.GetFileName(path),
            ["onnx_opset"] = imported.OpsetVersion.ToString(CultureInfo.InvariantCulture),
        };
        if (imported.Producer.Length > 0) metadata["onnx_producer"] = imported.Producer;
        bool safetensors = output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (safetensors) Checkpoint.SaveSafetensors(output, model, metadata, imported.InputShape);
        else Checkpoint.Save(output, model, metadata: metadata, inputShape: imported.InputShape);

        string Dims(int[]? sample) => sample is null ? "(N, …)" : "(N" + string.Concat(sample.Select(d => ", " + d.ToString(CultureInfo.InvariantCulture))) + ")";
        string producer = imported.Producer.Length > 0 ? $" written by {imported.Producer}" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{path}: ONNX opset {imported.OpsetVersion}{producer}, {imported.NodeCount} nodes → {imported.Summary}: {model.Count} layers, {model.ParameterCount():N0} parameters"));
        Console.WriteLine($"  {string.Join(" → ", model.Modules.Select(m => m.GetType().Name.Split('`')[0]))}");
        Console.WriteLine($"  input '{imported.InputName}' {Dims(imported.InputShape)} {imported.InputType} → output '{imported.OutputName}' {Dims(imported.OutputShape)}");
        if (imported.InputShape is null) Console.WriteLine("  the graph does not fix the input shape, so none is stored (nn export will ask for --input-shape)");
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
