using NeuralNet.Activations;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;

namespace NeuralNet.Benchmarks;

/// <summary>
/// Per-layer profile of one MNIST-MLP training step (784→128→64→10, batch 128, Adam) on random data, and the bytes a
/// warm step allocates (expected: 0); see <see cref="StepProfile"/>.
/// </summary>
public static class MlpStepBench
{
    /// <summary>
    /// Profiles <paramref name="steps"/> steps after <paramref name="warmup"/>: tiered compilation settles after a few
    /// hundred of these sub-millisecond steps, hence the long warm-up.
    /// </summary>
    public static void Run(int batch = 128, int warmup = 1000, int steps = 500)
    {
        var rng = new Rng(1);
        var first = new Linear<float>(784, 128, NeuralNet.Init.Init.HeNormal(), rng: rng) { ComputeInputGradient = false };
        var model = new Sequential<float>(first, new ReLU<float>(), new Linear<float>(128, 64, NeuralNet.Init.Init.HeNormal(), rng: rng),
            new ReLU<float>(), new Linear<float>(64, 10, NeuralNet.Init.Init.HeNormal(), rng: rng));
        var loss = new CrossEntropyLoss<float>();
        var optimizer = new Adam<float>(model.Parameters());
        var labels = Enumerable.Range(0, 12800).Select(_ => rng.NextInt(10)).ToArray();
        // Random pixels kept as bytes, as Mnist.Load keeps MNIST's (x = p/255 when a batch is gathered).
        var pixels = new byte[12800 * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        var data = new Dataset<float>(pixels, [784], 255f, labels, 10);
        var loader = new DataLoader<float>(data, batch, shuffle: true, seed: 3);
        StepProfile.Run("mlp_step", model, loss, optimizer, loader, warmup, steps);
    }
}
