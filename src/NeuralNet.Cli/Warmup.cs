using NeuralNet.Cli.Commands;
using NeuralNet.Data;
using NeuralNet.Losses;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli;

/// <summary>
/// Compiles the training path while the data set loads. nn runs with tiered compilation off, so every method is
/// compiled, fully optimized, on its first call: for the MLP that took about a third of the first epoch. Here a
/// throwaway copy of the model (its own seed and random data, nothing shared with the real run) trains two batches
/// and is evaluated once on another thread, while the main thread reads and decompresses the data files; the real
/// run then starts with its code compiled. Nothing of the real run changes: its weights are bit for bit the same.
/// </summary>
internal static class Warmup
{
    /// <summary>Off: <see cref="Start"/> does nothing (the tests compare runs with and without it).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>Starts the warm-up for the MNIST-shaped models of <paramref name="s"/> (28×28 images, 10 classes).</summary>
    public static Task Start(TrainSettings s) => !Enabled ? Task.CompletedTask : Task.Run(() =>
    {
        try
        {
            bool images = ModelFactory.WantsImages(s.Model);
            int count = 2 * s.BatchSize;
            var rng = new Rng(s.Seed ^ 0x5EED_0F_3A2Eu);
            var features = images ? Tensor<float>.RandomUniform(rng, 0, 1, count, 1, 28, 28) : Tensor<float>.RandomUniform(rng, 0, 1, count, 784);
            var labels = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
            var data = new Dataset<float>(features, labels, 10);
            var model = ModelFactory.Build(s.Model, 784, 10, s.Hidden, ModelFactory.Init(s.Init), s.Seed + 7, s.Fast);
            var optimizer = ModelFactory.Optimizer(s.Optimizer, model.Parameters(), s.LearningRate, s.WeightDecay);
            var options = new TrainerOptions { Epochs = 1, BatchSize = s.BatchSize, Seed = s.Seed + 7, Patience = 0, EvaluationBatchSize = ModelFactory.EvaluationBatch(model) };
            Action<Tensor<float>, Rng>? augment = s.Shift > 0 ? (batch, r) => Augment.RandomShift(batch, s.Shift, r) : null;
            Trainer.Fit(model, new CrossEntropyLoss<float>(s.LabelSmoothing), optimizer, data, data, options, augment: augment);
        }
        catch (Exception e) when (e is ArgumentException or CliException or NotSupportedException or ShapeMismatchException)
        {
            // Settings the real run will refuse with a proper message (or a model this warm-up does not know): nothing to warm.
        }
    });
}
