using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Commands;
using NeuralNet.Cli.Plots;
using NeuralNet.Cli.Tables;
using NeuralNet.Data;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Images;

/// <summary>
/// <c>nn train --images DIR</c>: one subfolder per class. DIR/train and DIR/test, when both exist, are the splits;
/// otherwise the pictures are split as tables are (seeded, stratified). Trains the CNN adapted to the pictures' shape
/// (or --model FILE.json) and writes the checkpoint (with the class names, channels and size), history, metrics and figures.
/// </summary>
internal static class ImageTrainer
{
    public static void Run(TrainSettings s)
    {
        if (s.Epochs < 1) throw new CliException($"--epochs must be ≥ 1, got {s.Epochs}");
        if (s.BatchSize < 1) throw new CliException($"--batch-size must be ≥ 1, got {s.BatchSize}");
        if (s.Channels is not (null or 1 or 3)) throw new CliException($"--channels must be 1 or 3, got {s.Channels}");
        TensorOps.Threads = s.Threads;
        string dir = s.Images!;
        bool presplit = Directory.Exists(Path.Combine(dir, "train")) && Directory.Exists(Path.Combine(dir, "test"));
        var trainFolder = ImageFolder.Scan(presplit ? Path.Combine(dir, "train") : dir);
        var testFolder = presplit ? ImageFolder.Scan(Path.Combine(dir, "test"), trainFolder.Classes) : trainFolder;
        if (trainFolder.Classes.Length < 2) throw new CliException($"--images {dir}: one class folder only ('{trainFolder.Classes[0]}'); a classifier needs at least two", 1);
        var unreadable = trainFolder.Unreadable.Concat(presplit ? testFolder.Unreadable : []).ToList();
        if (unreadable.Count > 0 && !s.Quiet)
        {
            Console.Error.WriteLine($"skipped {unreadable.Count} unreadable file{(unreadable.Count == 1 ? "" : "s")}:");
            foreach (string f in unreadable) Console.Error.WriteLine($"  {f}");
        }
        var (width, height) = s.ImageSize is string size ? ImageFolder.ParseSize(size) : trainFolder.CommonSize;
        int channels = s.Channels ?? (trainFolder.AnyColour(width, height) || (presplit && testFolder.AnyColour(width, height)) ? 3 : 1);
        var info = new ImagePreprocessingInfo(trainFolder.Classes, channels, width, height);

        int[] labels = trainFolder.Files.Select(f => f.Label).ToArray();
        int[] trainIdx, valIdx, testIdx;
        if (presplit)
        {
            (trainIdx, valIdx, _) = TableSplits.Split(labels.Length, labels, 0, s.ValidationFraction, s.Seed, trainFolder.Root);
            testIdx = Enumerable.Range(0, testFolder.Files.Count).ToArray();
        }
        else (trainIdx, valIdx, testIdx) = TableSplits.Split(labels.Length, labels, s.TestFraction, s.ValidationFraction, s.Seed, dir);
        var train = trainFolder.Load(trainIdx, info);
        var validation = valIdx.Length > 0 ? trainFolder.Load(valIdx, info) : null;
        var test = testFolder.Load(testIdx, info);

        var model = s.ModelFile is not null
            ? ModelFile.Load(s.ModelFile, info.SampleShape, info.Classes.Length, s.Seed)
            : Cnn(channels, height, width, info.Classes.Length, ModelFactory.Init(s.Init), s.Seed);
        var optimizer = ModelFactory.Optimizer(s.Optimizer, model.Parameters(), s.LearningRate, s.WeightDecay);
        var loss = new CrossEntropyLoss<float>(s.LabelSmoothing);
        string modelName = Architecture.Summary(model);
        if (!s.Quiet)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{dir}: {info.Classes.Length} classes ({string.Join(", ", info.Classes)}); {channels} channel{(channels == 1 ? "" : "s")}, {width}×{height}; {train.Count} train / {validation?.Count ?? 0} validation / {test.Count} test pictures{(presplit ? " (train/ and test/ folders)" : "")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{modelName}, {model.ParameterCount():N0} parameters; {optimizer}; batch {s.BatchSize}; seed {s.Seed}"));
        }
        var options = new TrainerOptions { Epochs = s.Epochs, BatchSize = s.BatchSize, Seed = s.Seed, Patience = s.Patience, Schedule = TrainCommand.ScheduleFor(s), EvaluationBatchSize = 128 };
        var observer = s.Quiet ? null : new LineObserver(s.Epochs);
        History history;
        try
        {
            history = Trainer.Fit(model, loss, optimizer, train, validation, options, observer);
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            history = e.History;
        }
        var metrics = Trainer.Evaluate(model, new CrossEntropyLoss<float>(), test, 128, info.Classes.Length);

        string best = Path.Combine(s.Output, "checkpoints", "best_model.npz");
        Directory.CreateDirectory(Path.GetDirectoryName(best)!);
        var metadata = new Dictionary<string, string>
        {
            ["dataset"] = Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar)), ["task"] = "classification", ["model"] = modelName,
            ["optimizer"] = optimizer.ToString()!, ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
            ["test_accuracy"] = metrics.Accuracy.ToString("R", CultureInfo.InvariantCulture), [ImagePreprocessingInfo.MetadataKey] = info.ToJson(),
        };
        Checkpoint.Save(best, model, optimizer, new TrainingState(history.BestEpoch + 1, s.Seed, optimizer.LearningRate), metadata, info.SampleShape);
        File.WriteAllText(Path.Combine(s.Output, "history.csv"), history.ToCsv());
        File.WriteAllText(Path.Combine(s.Output, "history.json"), history.ToJson());
        var json = Report(metrics, info);
        json["images"] = dir;
        json["model"] = modelName;
        json["parameters"] = model.ParameterCount();
        json["epochs"] = history.Epochs.Count;
        json["best_epoch"] = history.BestEpoch + 1;
        json["stop_reason"] = history.StopReason.ToText();
        json["skipped_files"] = unreadable.Count;
        File.WriteAllText(Path.Combine(s.Output, "metrics.json"), JsonSerializer.Serialize(json, TrainCommand.JsonOptions));
        if (s.Figures)
        {
            if (history.Epochs.Count > 0)
            {
                Figures.LossCurve(history, Path.Combine(s.Output, "loss_curve.png"));
                Figures.AccuracyCurve(history, Path.Combine(s.Output, "accuracy_curve.png"));
            }
            Figures.ConfusionMatrix(metrics.Confusion, info.Classes, Path.Combine(s.Output, "confusion_matrix.png"));
        }
        if (!s.Quiet)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"test accuracy {metrics.Accuracy:P2}, test loss {metrics.Loss:F4} ({test.Count} pictures; best epoch {history.BestEpoch + 1}, {history.StopReason.ToText()}); wrote {best} and {s.Output}/"));
        }
    }

    /// <summary>task, test_accuracy, test_loss, test_samples, classes and the confusion matrix (rows: true class).</summary>
    public static Dictionary<string, object?> Report(Metrics m, ImagePreprocessingInfo info)
    {
        int c = info.Classes.Length;
        return new Dictionary<string, object?>
        {
            ["task"] = "classification", ["test_accuracy"] = m.Accuracy, ["test_loss"] = m.Loss, ["test_samples"] = m.Count, ["classes"] = info.Classes,
            ["confusion_matrix"] = Enumerable.Range(0, c).Select(i => Enumerable.Range(0, c).Select(j => m.Confusion[i, j]).ToArray()).ToArray(),
        };
    }

    /// <summary>
    /// The CNN of <c>--model cnn</c> for C×H×W pictures: conv(C→32, 3×3, pad 1)–BN–ReLU–maxpool 2 → conv(32→64, 3×3,
    /// pad 1)–BN–ReLU–maxpool 2 → flatten → linear 64·⌊H/4⌋·⌊W/4⌋→128–ReLU–dropout 0.25 → linear 128→classes.
    /// </summary>
    public static Sequential<float> Cnn(int channels, int height, int width, int classes, NeuralNet.Init.Initializer init, ulong seed)
    {
        if (height < 4 || width < 4) throw new CliException($"pictures of {width}×{height} are too small for the CNN's two 2×2 poolings; give --image-size 4 or more");
        var rng = new Rng(seed);
        var conv1 = new Conv2d<float>(channels, 32, 3, padding: 1, bias: false, init: init, rng: rng) { ComputeInputGradient = false };
        return new Sequential<float>(
            conv1, new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
            new Conv2d<float>(32, 64, 3, padding: 1, bias: false, init: init, rng: rng), new BatchNorm2d<float>(64), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(),
            new Linear<float>(64 * (height / 4) * (width / 4), 128, init, rng: rng), new ReLU<float>(), new Dropout<float>(0.25, new Rng(seed + 1)),
            new Linear<float>(128, classes, init, rng: rng));
    }

    /// <summary>One line per epoch.</summary>
    private sealed class LineObserver(int epochs) : ITrainingObserver
    {
        public void OnEpochEnd(EpochRecord r, bool isBest) => Console.WriteLine(ConsoleObserver.Summary(r, epochs, isBest));
    }
}
