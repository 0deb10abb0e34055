using System.CommandLine;
using System.Globalization;
using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn export MODEL --format onnx|safetensors|npz -o OUT</c>: writes a checkpoint's model for use outside nn. onnx: an ONNX
/// graph (opset 17, float32) that ONNX Runtime and other engines run; npz: the weights and architecture alone
/// (no optimizer or training state), readable by <c>numpy.load</c> and by nn.
/// </summary>
internal static class ExportCommand
{
    /// <summary>The formats <c>--format</c> accepts; a new writer is one more name here and one more case in <see cref="Write"/>.</summary>
    public static readonly string[] Formats = ["onnx", "safetensors", "npz"];

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint (.npz) written by nn train" };
        var format = new Option<string>("--format") { Description = $"Output format: {string.Join(" or ", Formats)}", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "File to write", Required = true };
        var inputShape = new Option<string?>("--input-shape")
        {
            Description = "One sample's shape without the batch dimension, e.g. 784 or 1,28,28 (default: the one stored in the checkpoint, else the first Linear layer's input size)",
        };
        var cmd = new Command("export", "Export a saved model as ONNX (for ONNX Runtime and other engines), safetensors, or a weights-only .npz.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { format, output, inputShape }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() => Run(p.GetValue(model)!, p.GetValue(format)!, p.GetValue(output)!, p.GetValue(inputShape))));
        return cmd;
    }

    public static int Run(string modelPath, string format, string output, string? inputShapeText)
    {
        if (!Formats.Contains(format)) throw new CliException($"unknown --format '{format}' (known: {string.Join(", ", Formats)})");
        int[]? given = inputShapeText is null ? null : ParseShape(inputShapeText);
        if (!File.Exists(modelPath)) throw new CliException($"model file not found: {modelPath}", 1);
        try
        {
            return Checkpoint.ReadDType(modelPath) == "float64"
                ? Export(Checkpoint.Load<double>(modelPath), modelPath, format, output, given)
                : Export(Checkpoint.Load<float>(modelPath), modelPath, format, output, given);
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException or NotSupportedException)
        {
            throw new CliException(e.Message, 1);
        }
    }

    private static int Export<T>(Module<T> model, string modelPath, string format, string output, int[]? given)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[]? shape = given ?? Checkpoint.ReadInputShape(modelPath) ?? InferInputShape(model);
        if (shape is null && format == "onnx")
        {
            throw new CliException($"{modelPath} stores no input shape and its first layer does not fix one ({FirstLayerName(model)}); " +
                "give one sample's shape with --input-shape, e.g. --input-shape 1,28,28");
        }
        string dims = shape is null ? "no input shape stored" : $"input {Dims(shape)}";
        string details = Write(model, modelPath, format, output, shape);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {output} ({format}, {new FileInfo(output).Length:N0} bytes, {dims}{details})"));
        return 0;
    }

    /// <summary>Writes <paramref name="output"/> and returns what the report line adds after the input shape.</summary>
    private static string Write<T>(Module<T> model, string modelPath, string format, string output, int[]? shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (format)
        {
            case "onnx":
            {
                var r = NeuralNet.Onnx.Onnx.Export(model, output, shape!);
                string converted = r.ConvertedFromFloat64 ? ", float64 weights converted to float32" : "";
                return string.Create(CultureInfo.InvariantCulture,
                    $" → {NeuralNet.Onnx.Onnx.OutputName} {Dims(r.OutputShape)}, opset {NeuralNet.Onnx.Onnx.OpsetVersion}, float32{converted}");
            }
            case "npz":
            {
                if (shape is not null) CheckShape(model, shape);
                Checkpoint.Save(output, model, metadata: Checkpoint.ReadMetadata(modelPath), inputShape: shape);
                return $", {(typeof(T) == typeof(float) ? "float32" : "float64")} weights and architecture.json, no optimizer state";
            }
            case "safetensors":
            {
                if (shape is not null) CheckShape(model, shape);
                Checkpoint.SaveSafetensors(output, model, Checkpoint.ReadMetadata(modelPath), shape);
                return $", {(typeof(T) == typeof(float) ? "F32" : "F64")} tensors by state-dict name, the architecture in __metadata__";
            }
            default:
                throw new CliException($"unknown --format '{format}' (known: {string.Join(", ", Formats)})");
        }
    }

    /// <summary>"(N, 1, 28, 28)": the batch dimension is the N of the exported graph.</summary>
    private static string Dims(int[] sample) => "(N" + string.Concat(sample.Select(d => ", " + d.ToString(CultureInfo.InvariantCulture))) + ")";

    /// <summary>"1,28,28" → [1, 28, 28]; every extent ≥ 1.</summary>
    internal static int[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
                throw new CliException($"--input-shape '{text}' must be positive sizes separated by commas, without the batch dimension, e.g. 784 or 1,28,28");
        }
        return shape;
    }

    /// <summary>
    /// The input shape the first shape-fixing layer implies: [in_features] for a Linear, [C] for a BatchNorm1d; null
    /// when it cannot be told (a Conv2d fixes the channels but not the image size). Activations and dropout keep any shape, so they are passed over.
    /// </summary>
    internal static int[]? InferInputShape<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var layer in Leaves(model))
        {
            switch (layer)
            {
                case Linear<T> l: return [l.InFeatures];
                case BatchNorm1d<T> b: return [b.NumFeatures];
                case ReLU<T> or LeakyReLU<T> or Sigmoid<T> or Tanh<T> or Dropout<T>: continue;
                default: return null;
            }
        }
        return null;
    }

    private static string FirstLayerName<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        Leaves(model).FirstOrDefault() is { } first ? $"it starts with {first}" : "it has no layers";

    private static IEnumerable<Module<T>> Leaves<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        model is Sequential<T> s ? s.Modules.SelectMany(Leaves) : [model];

    /// <summary>Runs one zero sample through the model (evaluation mode) so that a shape that does not fit is refused before it is stored.</summary>
    private static void CheckShape<T>(Module<T> model, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        model.Eval();
        try
        {
            model.Forward(new Tensor<T>([1, .. shape]));
        }
        catch (ShapeMismatchException e)
        {
            throw new CliException($"input shape {Dims(shape)} does not fit the model: {e.Message}", 1);
        }
    }
}
