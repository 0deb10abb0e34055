using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using NeuralNet.Training;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Cli;

/// <summary>An MLP trained briefly on real MNIST (NN_DATA), once for the tests that need one; null without the data.</summary>
public sealed class MnistModel : IDisposable
{
    private readonly TempDir _dir = new();

    public MnistModel()
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root) || !Directory.Exists(Path.Combine(root, "mnist"))) return; // CI sets NN_DATA
        Folder = Path.Combine(root, "mnist");
        var train = Mnist.Load(Folder, train: true).Take(20000);
        var model = new Sequential<float>(
            new Linear<float>(784, 128, InitFns.HeNormal(), rng: new Rng(1)) { ComputeInputGradient = false }, new NeuralNet.Activations.ReLU<float>(),
            new Linear<float>(128, 10, InitFns.HeNormal(), rng: new Rng(2)));
        Trainer.Fit(model, new CrossEntropyLoss<float>(), new Adam<float>(model.Parameters(), 2e-3), train, null,
            new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 1 });
        File = _dir["mnist_mlp.npz"];
        Checkpoint.Save(File, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        Model = model;
    }

    /// <summary>The checkpoint, with metadata dataset = mnist.</summary>
    public string? File { get; }

    public Sequential<float>? Model { get; }

    /// <summary>$NN_DATA/mnist.</summary>
    public string? Folder { get; }

    public void Dispose() => _dir.Dispose();
}
