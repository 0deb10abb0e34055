using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.Init;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;

namespace NeuralNet.Cli;

/// <summary>Builds the models and optimizers the command line names.</summary>
internal static class ModelFactory
{
    public static readonly string[] Models = ["mlp"];

    public static readonly string[] Optimizers = ["adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop"];

    /// <summary>The MLP in→hidden…→classes with ReLU between layers; the first layer skips its (unused) input gradient.</summary>
    public static Sequential<float> Build(string model, int inputs, int classes, IReadOnlyList<int> hidden, Initializer init, ulong seed)
    {
        if (model != "mlp") throw new CliException($"unknown model '{model}' (known: {string.Join(", ", Models)})");
        var rng = new Rng(seed);
        var layers = new List<Module<float>>();
        int width = inputs;
        foreach (int h in hidden)
        {
            layers.Add(new Linear<float>(width, h, init, rng: rng));
            layers.Add(new ReLU<float>());
            width = h;
        }
        layers.Add(new Linear<float>(width, classes, init, rng: rng));
        ((Linear<float>)layers[0]).ComputeInputGradient = false;
        return new Sequential<float>(layers.ToArray());
    }

    public static Optimizer<float> Optimizer(string name, IReadOnlyList<Parameter<float>> parameters, double? lr, double weightDecay) => name switch
    {
        "adam" => new Adam<float>(parameters, lr ?? 1e-3, weightDecay: weightDecay),
        "adamw" => new AdamW<float>(parameters, lr ?? 1e-3, weightDecay: weightDecay == 0 ? 0.01 : weightDecay),
        "sgd" => new SGD<float>(parameters, lr ?? 0.1, weightDecay: weightDecay),
        "momentum" => new SGD<float>(parameters, lr ?? 0.05, momentum: 0.9, weightDecay: weightDecay),
        "nesterov" => new SGD<float>(parameters, lr ?? 0.05, momentum: 0.9, weightDecay: weightDecay, nesterov: true),
        "rmsprop" => new RMSProp<float>(parameters, lr ?? 1e-3, weightDecay: weightDecay),
        _ => throw new CliException($"unknown optimizer '{name}' (known: {string.Join(", ", Optimizers)})"),
    };

    public static int[] ParseHidden(string text)
    {
        try
        {
            var sizes = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (sizes.Any(s => s < 1)) throw new FormatException();
            return sizes;
        }
        catch (FormatException)
        {
            throw new CliException($"--hidden '{text}' must be a comma-separated list of positive sizes, e.g. 128,64");
        }
    }

    public static Initializer Init(string name)
    {
        try
        {
            return NeuralNet.Init.Init.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }
}

/// <summary>A user error: printed as one line, exit code 2 (bad usage) or 1 (failure).</summary>
internal sealed class CliException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
