using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Commands;
using NeuralNet.Cli.Plots;
using NeuralNet.Data;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// <c>nn train --csv FILE --target COLUMN</c>: reads the table, splits it (seeded, stratified for classification),
/// learns the preprocessing from the training rows, trains an MLP (or the <c>--model FILE.json</c> architecture), and
/// writes the checkpoint (with the preprocessing), history, metrics.json and figures.
/// </summary>
internal static class TableTrainer
{
    /// <summary>The defaults a table run takes for options not given on the command line.</summary>
    public static class Defaults
    {
        public const int Epochs = 300;
        public const double LearningRate = 1e-3;
        public const int BatchSize = 32;
        public const double WeightDecay = 1e-3;
        public const int Patience = 30;
        public const double ValidationFraction = 0.1;
        public const string Hidden = "64";
        public const string Schedule = "none";
    }

    /// <summary>The table a run was trained on, its preprocessing and the test metrics (as in metrics.json).</summary>
    public sealed record TableResult(TablePreprocessing Preprocessing, Dictionary<string, object?> Metrics, History History);

    public static TableResult Run(TrainSettings s)
    {
        if (s.Target is null) throw new CliException("--csv needs --target COLUMN: the column to predict");
        if (s.Epochs < 1) throw new CliException($"--epochs must be ≥ 1, got {s.Epochs}");
        if (s.BatchSize < 1) throw new CliException($"--batch-size must be ≥ 1, got {s.BatchSize}");
        if (s.Task is not (null or "classification" or "regression")) throw new CliException($"--task must be classification or regression, got '{s.Task}'");
        if (s.Fill is not (null or "mean" or "median" or "mode")) throw new CliException($"--fill must be mean, median or mode, got '{s.Fill}'");
        if (s.Loss is not (null or "mse" or "huber")) throw new CliException($"--loss must be mse or huber, got '{s.Loss}'");
        if (!ModelFactory.Optimizers.Contains(s.Optimizer)) throw new CliException($"unknown optimizer '{s.Optimizer}' (known: {string.Join(", ", ModelFactory.Optimizers)})");
        TensorOps.Threads = s.Threads;

        var table = CsvTable.Read(s.Csv!);
        int t = table.IndexOf(s.Target, "--target");
        string task = s.Task ?? TablePreprocessing.DetectTask(table, t);
        if (task == "classification" && s.Loss is not null) throw new CliException($"--loss {s.Loss} is for regression; '{s.Target}' is a classification target (--task regression overrides)");
        int[]? strata = null;
        if (task == "classification")
        {
            foreach (int r in Enumerable.Range(0, table.Rows.Count))
                if (CsvTable.IsMissing(table.Rows[r][t])) throw new CliException($"{table.Where(r, t)}: the target has no value ('{table.Rows[r][t]}'); remove the row (--fill fills features, never the target)", 1);
            var classes = TablePreprocessing.ClassNames(table, t);
            if (classes.Length < 2) throw new CliException($"{table.Path}: the target '{s.Target}' has one class only ('{classes[0]}'); a classifier needs at least two", 1);
            strata = new TablePreprocessing { Target = s.Target, Task = task, Columns = [], Classes = classes }.Labels(table, Enumerable.Range(0, table.Rows.Count).ToArray());
        }

        // Every check of the columns and the target, over all rows, before any split: a bad cell is named even when the
        // table is too small to split.
        TablePreprocessing.Fit(table, Enumerable.Range(0, table.Rows.Count).ToArray(), s.Target, s.Ignore, task, s.Fill);
        CsvTable testTable;
        int[] trainRows, valRows, testRows;
        if (s.TestFile is not null)
        {
            testTable = CsvTable.Read(s.TestFile);
            (trainRows, valRows, _) = TableSplits.Split(table.Rows.Count, strata, 0, s.ValidationFraction, s.Seed, table.Path);
            testRows = Enumerable.Range(0, testTable.Rows.Count).ToArray();
        }
        else
        {
            testTable = table;
            (trainRows, valRows, testRows) = TableSplits.Split(table.Rows.Count, strata, s.TestFraction, s.ValidationFraction, s.Seed, table.Path);
        }

        var prep = TablePreprocessing.Fit(table, trainRows, s.Target, s.Ignore, task, s.Fill) with { Loss = task == "classification" ? "cross_entropy" : s.Loss ?? "mse" };
        var train = prep.Dataset(table, trainRows);
        var validation = valRows.Length > 0 ? prep.Dataset(table, valRows) : null;
        var test = testRows.Length > 0 ? prep.Dataset(testTable, testRows) : null;

        var model = s.ModelFile is not null
            ? ModelFile.Load(s.ModelFile, [prep.Inputs], prep.Outputs, s.Seed)
            : ModelFactory.Build("mlp", prep.Inputs, prep.Outputs, s.Hidden, ModelFactory.Init(s.Init), s.Seed);
        var optimizer = ModelFactory.Optimizer(s.Optimizer, model.Parameters(), s.LearningRate, s.WeightDecay);
        Loss<float> loss = LossFor(prep, s.LabelSmoothing);
        Metric<float> metric = prep.IsClassification ? new Accuracy<float>() : new R2Score<float>();
        string modelName = Architecture.Summary(model);
        string optimizerName = optimizer.ToString()!;
        if (!s.Quiet)
        {
            string what = prep.IsClassification ? $"classification of '{prep.Target}' into {prep.Classes.Length} classes" : $"regression of '{prep.Target}'";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{table.Path}: {what}; {prep.Columns.Length} feature columns → {prep.Inputs} inputs; {trainRows.Length} train / {valRows.Length} validation / {testRows.Length} test rows"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{modelName}, {model.ParameterCount():N0} parameters; {optimizerName}; {loss}; batch {s.BatchSize}; seed {s.Seed}"));
        }

        var options = new TrainerOptions
        {
            Epochs = s.Epochs, BatchSize = s.BatchSize, Seed = s.Seed, Patience = s.Patience, Schedule = TrainCommand.ScheduleFor(s),
        };
        History history;
        try
        {
            history = Trainer.Fit(model, loss, optimizer, train, validation, options, s.Quiet ? null : new TableObserver(s.Epochs, metric.Name), metric: metric);
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            history = e.History;
        }

        var metrics = new Dictionary<string, object?>
        {
            ["csv"] = table.Path, ["target"] = prep.Target, ["model"] = modelName, ["parameters"] = model.ParameterCount(), ["optimizer"] = optimizerName,
            ["seed"] = s.Seed, ["epochs"] = history.Epochs.Count, ["best_epoch"] = history.BestEpoch + 1, ["stop_reason"] = history.StopReason.ToText(),
        };
        TableMetrics? testMetrics = test is null ? null : TableMetrics.Compute(model, prep, test);
        if (testMetrics is not null) foreach (var kv in testMetrics.ToDictionary(prep)) metrics[kv.Key] = kv.Value;
        else metrics["task"] = prep.Task;

        string checkpoints = Path.Combine(s.Output, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        string best = Path.Combine(checkpoints, "best_model.npz");
        var metadata = new Dictionary<string, string>
        {
            ["dataset"] = Path.GetFileName(table.Path), ["task"] = prep.Task, ["model"] = modelName, ["optimizer"] = optimizerName,
            ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture), [TablePreprocessing.MetadataKey] = prep.ToJson(),
        };
        if (testMetrics is not null) metadata[prep.IsClassification ? "test_accuracy" : "test_r2"] = testMetrics.Headline.ToString("R", CultureInfo.InvariantCulture);
        Checkpoint.Save(best, model, optimizer, new TrainingState(history.BestEpoch + 1, s.Seed, optimizer.LearningRate), metadata, [prep.Inputs]);
        File.WriteAllText(Path.Combine(s.Output, "history.csv"), history.ToCsv());
        File.WriteAllText(Path.Combine(s.Output, "history.json"), history.ToJson());
        File.WriteAllText(Path.Combine(s.Output, "metrics.json"), JsonSerializer.Serialize(metrics, TrainCommand.JsonOptions));
        if (s.Figures)
        {
            if (history.Epochs.Count > 0) Figures.LossCurve(history, Path.Combine(s.Output, "loss_curve.png"));
            testMetrics?.WriteFigures(s.Output, prep);
        }
        if (!s.Quiet)
        {
            if (testMetrics is not null) Console.WriteLine(testMetrics.Describe(prep) + string.Create(CultureInfo.InvariantCulture, $" (best epoch {history.BestEpoch + 1}, {history.StopReason.ToText()})"));
            Console.WriteLine($"wrote {best} and {s.Output}/");
        }
        return new TableResult(prep, metrics, history);
    }

    /// <summary>Cross-entropy for classification; MSE or Huber (δ = 1, on the standardized target) for regression.</summary>
    public static Loss<float> LossFor(TablePreprocessing prep, double labelSmoothing = 0) => prep.Loss switch
    {
        "huber" => new HuberLoss<float>(1.0),
        "mse" => new MSELoss<float>(),
        _ => new CrossEntropyLoss<float>(labelSmoothing),
    };

    /// <summary>Prints the first epoch, every tenth, and the best so far when it improves after the tenth; a table trains in hundreds of short epochs.</summary>
    private sealed class TableObserver(int epochs, string metricName) : ITrainingObserver
    {
        public void OnEpochEnd(EpochRecord r, bool isBest)
        {
            if (r.Epoch != 0 && (r.Epoch + 1) % 25 != 0 && r.Epoch != epochs - 1) return;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {r.Epoch + 1,4}/{epochs}  train loss {r.TrainLoss:F4} {metricName} {r.TrainAccuracy:F4}  val loss {r.ValidationLoss:F4} {metricName} {r.ValidationAccuracy:F4}{(isBest ? "  *best" : "")}"));
        }
    }
}
