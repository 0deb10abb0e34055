using System.Globalization;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Cli;

/// <summary>
/// <c>--model FILE.json</c>: an architecture in the JSON format checkpoints store (the whole architecture.json
/// document, or the bare <c>{"type":"Sequential","layers":[…]}</c>), built fresh with weights drawn from the seed, and
/// checked against the data's shapes before any training.
/// </summary>
internal static class ModelFile
{
    /// <summary>True when a --model value names a file rather than a built-in model.</summary>
    public static bool IsFile(string model) =>
        model.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || (!ModelFactory.Models.Contains(model) && File.Exists(model));

    /// <summary>True when the architecture in <paramref name="path"/> starts with a convolution (it takes images (C, H, W)).</summary>
    public static bool TakesImages(string path)
    {
        if (!File.Exists(path)) throw new CliException($"--model {path}: file not found", 1);
        try
        {
            var module = Architecture.Parse<float>(File.ReadAllText(path));
            return (module is Sequential<float> { Count: > 0 } s ? s[0] : module) is Conv2d<float>;
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"{path}: {e.Message}", 1);
        }
    }

    /// <summary>The model of <paramref name="path"/>, checked to take <paramref name="inputShape"/> and give <paramref name="outputs"/> values per sample.</summary>
    public static Sequential<float> Load(string path, int[] inputShape, int outputs, ulong seed)
    {
        if (!File.Exists(path)) throw new CliException($"--model {path}: file not found", 1);
        Module<float> module;
        try
        {
            module = Architecture.Parse<float>(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"{path}: {e.Message}", 1);
        }
        var model = module as Sequential<float> ?? new Sequential<float>(module);
        var rng = new Rng(seed);
        foreach (var layer in model.Modules)
        {
            // Seeded weights, PyTorch's default scheme: reproducible from --seed.
            if (layer is Linear<float> linear) linear.ResetParameters(rng, biasUniform: true);
            else if (layer is Conv2d<float> conv) conv.ResetParameters(rng, biasUniform: true);
        }
        CheckShapes(model, inputShape, outputs, path);
        return model;
    }

    /// <summary>
    /// Runs a batch of two zero samples through the layers one by one (in evaluation mode), so a layer that does not
    /// fit is named with the layer before it and both shapes, before training starts.
    /// </summary>
    public static void CheckShapes(Sequential<float> model, int[] inputShape, int outputs, string source)
    {
        var shapes = OutputShapes(model, inputShape, source);
        int last = shapes[^1].Aggregate(1, (a, b) => a * b);
        if (shapes[^1].Length != 1 || last != outputs)
        {
            throw new CliException($"{source}: the last layer, {model.Count - 1} ({Name(model[model.Count - 1])}), gives {Fmt(shapes[^1])} per sample, " +
                $"but the data needs {outputs} output{(outputs == 1 ? "" : "s")} ({(outputs == 1 ? "one regression target" : $"one per class")})", 1);
        }
    }

    /// <summary>The output shape of every layer (without the batch dimension) for inputs of <paramref name="inputShape"/>.</summary>
    public static List<int[]> OutputShapes(Sequential<float> model, int[] inputShape, string source)
    {
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            var x = new Tensor<float>([2, .. inputShape]);
            var shapes = new List<int[]>();
            for (int i = 0; i < model.Count; i++)
            {
                try
                {
                    x = model[i].Forward(x);
                }
                catch (Exception e) when (e is ShapeMismatchException or ArgumentException or InvalidOperationException)
                {
                    string before = i == 0 ? $"the input, {Fmt(inputShape)}" : $"layer {i - 1} ({Name(model[i - 1])}), which gives {Fmt(shapes[^1])}";
                    throw new CliException($"{source}: layer {i} ({Name(model[i])}) does not fit {before}: {e.Message}", 1);
                }
                shapes.Add(x.Shape.ToArray()[1..]);
            }
            return shapes;
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>A shape without the batch dimension as PyTorch prints one: (4,) or (1, 28, 28).</summary>
    internal static string Fmt(int[] dims) => dims.Length == 1 ? $"({dims[0]},)" : $"({string.Join(", ", dims)})";

    internal static string Name(Module<float> layer) => layer.ToString() ?? layer.GetType().Name;

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
