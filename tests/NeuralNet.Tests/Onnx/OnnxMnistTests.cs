using System.Diagnostics;
using NeuralNet.Data;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Training;
using Xunit.Abstractions;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// Models briefly trained on real MNIST (CI sets NN_DATA to shared/data; without it there is nothing to read and the
/// tests pass), exported, and run by ONNX Runtime on all 10,000 test images: the predicted class must be ours for
/// every image, and both accuracies are reported.
/// </summary>
public sealed class OnnxMnistTests(ITestOutputHelper output)
{
    [Fact]
    public void Mlp_trained_300_steps_predicts_the_same_class_in_onnx_runtime_for_every_test_image()
    {
        var model = NeuralNet.Cli.ModelFactory.Build("mlp", 784, 10, [128, 64], InitFns.HeNormal(), seed: 42);
        TrainExportAndCompare("MLP 784→128→64→10", model, images: false, steps: 300, batchSize: 128, learningRate: 1e-3, minimumAccuracy: 0.9);
    }

    [Fact]
    public void Cnn_with_batchnorm_trained_200_steps_predicts_the_same_class_in_onnx_runtime_for_every_test_image()
    {
        var model = NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), seed: 42, fast: true);
        TrainExportAndCompare("CNN of nn train --fast", model, images: true, steps: 200, batchSize: 64, learningRate: 2e-3, minimumAccuracy: 0.9);
    }

    private void TrainExportAndCompare(string name, Sequential<float> model, bool images, int steps, int batchSize, double learningRate, double minimumAccuracy)
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root) || !Directory.Exists(Path.Combine(root, "mnist")))
        {
            output.WriteLine("NN_DATA is not set (or has no mnist/): nothing to train on.");
            return;
        }
        var clock = Stopwatch.StartNew();
        string folder = Path.Combine(root, "mnist");
        var train = Mnist.Load(folder, train: true, flatten: !images).Take(steps * batchSize);
        var test = Mnist.Load(folder, train: false, flatten: !images);
        Trainer.Fit(model, new CrossEntropyLoss<float>(), new Adam<float>(model.Parameters(), learningRate), train, null,
            new TrainerOptions { Epochs = 1, BatchSize = batchSize, Seed = 42 });
        double trained = clock.Elapsed.TotalSeconds;

        int[] inputShape = test.SampleShape;
        var (bytes, _) = OnnxOracle.Export(model, inputShape);
        using var session = OnnxOracle.Session(bytes);
        model.Eval();
        const int chunk = 1000;
        int classes = test.NumClasses;
        int oursCorrect = 0, theirsCorrect = 0, disagreements = 0;
        double worst = 0;
        var firstDisagreements = new List<string>();
        for (int start = 0; start < test.Count; start += chunk)
        {
            int n = Math.Min(chunk, test.Count - start);
            var x = test.Features.RowRange(start, n);
            var ours = model.Forward(x).ToArray();
            var (theirs, _) = OnnxOracle.Run(session, x.ToArray(), [n, .. inputShape.Select(d => (long)d)]);
            for (int i = 0; i < n; i++)
            {
                var a = ours.AsSpan(i * classes, classes);
                var b = theirs.AsSpan(i * classes, classes);
                for (int c = 0; c < classes; c++) worst = Math.Max(worst, Math.Abs(a[c] - b[c]));
                int p = Trainer.ArgMax<float>(a), q = Trainer.ArgMax<float>(b), label = test.Labels[start + i];
                if (p == label) oursCorrect++;
                if (q == label) theirsCorrect++;
                if (p != q && ++disagreements <= 5)
                    firstDisagreements.Add($"image {start + i}: ours {p} ({string.Join(", ", a.ToArray())}), ONNX Runtime {q} ({string.Join(", ", b.ToArray())})");
            }
        }
        double oursAccuracy = (double)oursCorrect / test.Count, theirsAccuracy = (double)theirsCorrect / test.Count;
        output.WriteLine($"{name}, {steps} steps of {batchSize} ({trained:F1} s): test accuracy ours {oursAccuracy:P2}, ONNX Runtime {theirsAccuracy:P2} " +
            $"on {test.Count} images; {disagreements} predictions differ; max |Δ logit| {worst:E2}; {clock.Elapsed.TotalSeconds:F1} s in all");
        Assert.True(disagreements == 0, $"{disagreements} of {test.Count} predictions differ:\n{string.Join("\n", firstDisagreements)}");
        Assert.Equal(oursCorrect, theirsCorrect);
        Assert.True(oursAccuracy >= minimumAccuracy, $"{name} reached only {oursAccuracy:P2} after {steps} steps");
    }
}
