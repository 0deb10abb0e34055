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
    public static readonly string[] Models = ["mlp", "cnn"];

    public static readonly string[] Optimizers = ["adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop"];

    /// <summary>
    /// Batch size for evaluation passes: large for the MLP (fewer, bigger GEMMs); for the CNN the training batch, 128,
    /// so evaluation reuses the training activations' buffers instead of growing them (a layer keeps its largest buffers;
    /// at 256 the CNN's peak memory was 598 MB).
    /// </summary>
    public static int EvaluationBatch(Modules.Module<float> model) =>
        model is Sequential<float> { Count: > 0 } s && s[0] is Conv2d<float> ? 128 : 1000;

    /// <summary>True when the model takes images as (N, 1, 28, 28) rather than flattened rows.</summary>
    public static bool WantsImages(string model) => model == "cnn";

    /// <summary>
    /// True when a loaded model takes images (N, 1, 28, 28): its checkpoint stores a 3-D input shape, or (for one saved
    /// without) its first layer is a convolution.
    /// </summary>
    public static bool WantsImages(Modules.Module<float> model, int[]? inputShape) =>
        inputShape is { Length: 3 } || (inputShape is null && model is Sequential<float> { Count: > 0 } s && s[0] is Conv2d<float>);

    /// <summary>
    /// "mlp": in→hidden…→classes with ReLU between layers. "cnn": conv(1→32, 3×3, pad 1)–BN–ReLU–maxpool 2 →
    /// conv(32→64, 3×3, pad 1)–BN–ReLU–maxpool 2 → flatten → linear 3136→128–ReLU–dropout 0.25 → linear 128→10.
    /// With <paramref name="fast"/> the CNN is the small one of <c>--fast</c>: conv(1→16, 5×5)–BN–ReLU–maxpool 2 →
    /// conv(16→32, 5×5)–BN–ReLU–maxpool 2 → flatten → linear 512→128–ReLU → linear 128→10 (28 → 24 → 12 → 8 → 4;
    /// 80,250 parameters, a fifth of the CNN's multiply-adds).
    /// The first layer skips its (unused) input gradient.
    /// </summary>
    public static Sequential<float> Build(string model, int inputs, int classes, IReadOnlyList<int> hidden, Initializer init, ulong seed, bool fast = false)
    {
        var rng = new Rng(seed);
        if (model == "cnn" && fast)
        {
            var conv1 = new Conv2d<float>(1, 16, 5, bias: false, init: init, rng: rng) { ComputeInputGradient = false };
            return new Sequential<float>(
                conv1, new BatchNorm2d<float>(16), new ReLU<float>(), new MaxPool2d<float>(2),
                new Conv2d<float>(16, 32, 5, bias: false, init: init, rng: rng), new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
                new Flatten<float>(),
                new Linear<float>(32 * 4 * 4, 128, init, rng: rng), new ReLU<float>(),
                new Linear<float>(128, classes, init, rng: rng));
        }
        if (model == "cnn")
        {
            // Conv biases are dropped before BatchNorm: its mean subtraction cancels them (their gradient is exactly 0).
            var conv1 = new Conv2d<float>(1, 32, 3, padding: 1, bias: false, init: init, rng: rng) { ComputeInputGradient = false };
            return new Sequential<float>(
                conv1, new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
                new Conv2d<float>(32, 64, 3, padding: 1, bias: false, init: init, rng: rng), new BatchNorm2d<float>(64), new ReLU<float>(), new MaxPool2d<float>(2),
                new Flatten<float>(),
                new Linear<float>(64 * 7 * 7, 128, init, rng: rng), new ReLU<float>(), new Dropout<float>(0.25, new Rng(seed + 1)),
                new Linear<float>(128, classes, init, rng: rng));
        }
        if (model != "mlp") throw new CliException($"unknown model '{model}' (known: {string.Join(", ", Models)})");
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

    /// <summary>The learning rate an optimizer gets without --lr: 1e-3 for Adam, AdamW and RMSProp, 0.1 for SGD, 0.05 with momentum.</summary>
    public static double DefaultLearningRate(string optimizer) => optimizer switch
    {
        "sgd" => 0.1,
        "momentum" or "nesterov" => 0.05,
        _ => 1e-3,
    };

    public static Optimizer<float> Optimizer(string name, IReadOnlyList<Parameter<float>> parameters, double? lr, double weightDecay)
    {
        double rate = lr ?? DefaultLearningRate(name);
        return name switch
        {
            "adam" => new Adam<float>(parameters, rate, weightDecay: weightDecay),
            "adamw" => new AdamW<float>(parameters, rate, weightDecay: weightDecay == 0 ? 0.01 : weightDecay),
            "sgd" => new SGD<float>(parameters, rate, weightDecay: weightDecay),
            "momentum" => new SGD<float>(parameters, rate, momentum: 0.9, weightDecay: weightDecay),
            "nesterov" => new SGD<float>(parameters, rate, momentum: 0.9, weightDecay: weightDecay, nesterov: true),
            "rmsprop" => new RMSProp<float>(parameters, rate, weightDecay: weightDecay),
            _ => throw new CliException($"unknown optimizer '{name}' (known: {string.Join(", ", Optimizers)})"),
        };
    }

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
