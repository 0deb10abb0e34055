using System.CommandLine;
using System.Globalization;
using System.Text;
using NeuralNet.Checkpoints;
using NeuralNet.Modules;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn summary --model FILE.json|CHECKPOINT [--input-shape F|C,H,W]</c>: each layer's output shape and parameter
/// count, and the totals, as Keras' model.summary() and torchinfo print them.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "An architecture (.json, as --model of nn train takes) or a checkpoint", Required = true };
        var shape = new Option<string?>("--input-shape") { Description = "One sample's shape without the batch dimension: F (features) or C,H,W (default: the checkpoint's stored input shape)", HelpName = "F|C,H,W" };
        var cmd = new Command("summary", "Print each layer's output shape and parameter count, and the total.");
        cmd.Options.Add(model);
        cmd.Options.Add(shape);
        cmd.SetAction(p => Cli.Guard(() =>
        {
            Console.Write(Run(p.GetValue(model)!, p.GetValue(shape)));
            return 0;
        }));
        return cmd;
    }

    public static string Run(string path, string? shapeText)
    {
        if (!File.Exists(path)) throw new CliException($"--model {path}: file not found", 1);
        Module<float> module;
        int[]? stored;
        try
        {
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                var document = Architecture.ParseDocument(File.ReadAllText(path));
                module = Architecture.BuildFromDocument<float>(document);
                stored = Architecture.InputShape(document);
            }
            else
            {
                module = Checkpoint.Load<float>(path);
                stored = Checkpoint.ReadInputShape(path);
            }
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"{path}: {e.Message}", 1);
        }
        int[] input = shapeText is not null ? ParseShape(shapeText)
            : stored ?? throw new CliException($"{path} stores no input shape; give --input-shape F or C,H,W (one sample, without the batch dimension)");
        var model = module as Sequential<float> ?? new Sequential<float>(module);
        var shapes = ModelFile.OutputShapes(model, input, path);
        var rows = new List<(string Layer, string Shape, long Parameters)> { ("input", ModelFile.Fmt(input), 0) };
        for (int i = 0; i < model.Count; i++) rows.Add(($"{i}: {ModelFile.Name(model[i])}", ModelFile.Fmt(shapes[i]), model[i].ParameterCount()));
        int w0 = Math.Max(5, rows.Max(r => r.Layer.Length)), w1 = Math.Max(12, rows.Max(r => r.Shape.Length)), w2 = 12;
        var sb = new StringBuilder();
        string rule = new('─', w0 + w1 + w2 + 4);
        sb.AppendLine($"{"Layer".PadRight(w0)}  {"Output shape".PadRight(w1)}  {"Param #".PadLeft(w2)}").AppendLine(rule);
        foreach (var (layer, shape, parameters) in rows)
            sb.AppendLine($"{layer.PadRight(w0)}  {shape.PadRight(w1)}  {parameters.ToString("N0", CultureInfo.InvariantCulture).PadLeft(w2)}");
        long total = model.ParameterCount();
        sb.AppendLine(rule);
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Total params: {total:N0} ({total * sizeof(float) / 1024.0:F1} KiB as float32)"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Input shape: {ModelFile.Fmt(input)} per sample; output: {ModelFile.Fmt(shapes[^1])}"));
        return sb.ToString();
    }

    private static int[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1)
                throw new CliException($"--input-shape '{text}' must be F or C,H,W: positive integers, e.g. 30 or 3,32,32");
        return dims;
    }
}
