using NeuralNet.Activations;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;

namespace NeuralNet.Benchmarks;

/// <summary>
/// Per-layer profile of one training step of the MNIST CNN that <c>nn train --model cnn</c> trains, on random images of
/// MNIST's shape (batch, 1, 28, 28): see <see cref="StepProfile"/>.
/// </summary>
public static class CnnStepBench
{
    /// <summary>
    /// The network of src/NeuralNet.Cli/ModelFactory.cs ("cnn"), duplicated because the bench references only the
    /// library: conv(1→32, 3×3, pad 1, no bias)–BN–ReLU–maxpool 2 → conv(32→64, 3×3, pad 1, no bias)–BN–ReLU–maxpool 2 →
    /// flatten → linear 3136→128–ReLU–dropout 0.25 → linear 128→10; He init, the first layer without input gradient.
    /// Keep the two in step.
    /// </summary>
    public static Sequential<float> Build(ulong seed = 42)
    {
        var rng = new Rng(seed);
        var init = NeuralNet.Init.Init.HeNormal();
        var conv1 = new Conv2d<float>(1, 32, 3, padding: 1, bias: false, init: init, rng: rng) { ComputeInputGradient = false };
        return new Sequential<float>(
            conv1, new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
            new Conv2d<float>(32, 64, 3, padding: 1, bias: false, init: init, rng: rng), new BatchNorm2d<float>(64), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(),
            new Linear<float>(64 * 7 * 7, 128, init, rng: rng), new ReLU<float>(), new Dropout<float>(0.25, new Rng(seed + 1)),
            new Linear<float>(128, 10, init, rng: rng));
    }

    /// <summary>
    /// The small CNN of <c>nn train --model cnn --fast</c> (ModelFactory, fast: true): conv(1→16, 5×5, no bias)–BN–ReLU–maxpool 2
    /// → conv(16→32, 5×5, no bias)–BN–ReLU–maxpool 2 → flatten → linear 512→128–ReLU → linear 128→10. Keep the two in step.
    /// </summary>
    public static Sequential<float> BuildFast(ulong seed = 42)
    {
        var rng = new Rng(seed);
        var init = NeuralNet.Init.Init.HeNormal();
        var conv1 = new Conv2d<float>(1, 16, 5, bias: false, init: init, rng: rng) { ComputeInputGradient = false };
        return new Sequential<float>(
            conv1, new BatchNorm2d<float>(16), new ReLU<float>(), new MaxPool2d<float>(2),
            new Conv2d<float>(16, 32, 5, bias: false, init: init, rng: rng), new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(),
            new Linear<float>(32 * 4 * 4, 128, init, rng: rng), new ReLU<float>(),
            new Linear<float>(128, 10, init, rng: rng));
    }

    /// <summary>Profiles <paramref name="steps"/> steps after <paramref name="warmup"/> (Adam lr 1e-3, label smoothing 0.1, as nn train).</summary>
    public static void Run(int batch, int warmup, int steps, bool fast = false)
    {
        var rng = new Rng(1);
        var model = fast ? BuildFast() : Build();
        var loss = new CrossEntropyLoss<float>(labelSmoothing: 0.1);
        var optimizer = new Adam<float>(model.Parameters(), 1e-3);
        int images = batch * 8; // a few distinct batches, shuffled like training data
        var labels = Enumerable.Range(0, images).Select(_ => rng.NextInt(10)).ToArray();
        // Random pixels kept as bytes, as Mnist.Load keeps MNIST's (x = p/255 when a batch is gathered).
        var pixels = new byte[images * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        var data = new Dataset<float>(pixels, [1, 28, 28], 255f, labels, 10);
        var loader = new DataLoader<float>(data, batch, shuffle: true, seed: 3);
        StepProfile.Run("cnn_step", model, loss, optimizer, loader, warmup, steps);
    }
}
