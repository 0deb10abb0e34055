using System.Globalization;
using System.Text;
using NeuralNet.Cli.Plots;
using NeuralNet.Data;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// A table model's test figures. Classification: accuracy, loss and the confusion matrix with class names.
/// Regression: MAE, RMSE and R² on the target's original scale (the model's standardized outputs mapped back), and the
/// loss on the standardized scale the model was trained on.
/// </summary>
internal sealed class TableMetrics
{
    private TableMetrics(string task) => Task = task;

    public string Task { get; }

    public int Count { get; private init; }

    public double Loss { get; private init; }

    public Metrics? Classification { get; private init; }

    public double Mae { get; private init; }

    public double Rmse { get; private init; }

    public double R2 { get; private init; }

    /// <summary>Actual and predicted targets on the original scale (regression).</summary>
    public double[] Actual { get; private init; } = [];

    public double[] Predicted { get; private init; } = [];

    /// <summary>Accuracy or R².</summary>
    public double Headline => Classification?.Accuracy ?? R2;

    public static TableMetrics Compute(Module<float> model, TablePreprocessing prep, Dataset<float> test)
    {
        if (prep.IsClassification)
        {
            var m = Trainer.Evaluate(model, new NeuralNet.Losses.CrossEntropyLoss<float>(), test, numClasses: prep.Classes.Length);
            return new TableMetrics(prep.Task) { Count = test.Count, Loss = m.Loss, Classification = m };
        }
        var (loss, _) = Trainer.EvaluateLoss(model, TableTrainer.LossFor(prep), test, 1000, new R2Score<float>());
        var output = Trainer.PredictOutputs(model, test.Features);
        int n = test.Count;
        var actual = new double[n];
        var predicted = new double[n];
        double se = 0, ae = 0;
        for (int i = 0; i < n; i++)
        {
            actual[i] = test.Targets![i, 0] * prep.TargetStd + prep.TargetMean;
            predicted[i] = output[i, 0] * prep.TargetStd + prep.TargetMean;
            double d = predicted[i] - actual[i];
            se += d * d;
            ae += Math.Abs(d);
        }
        double mean = actual.Average(), sst = actual.Sum(a => (a - mean) * (a - mean));
        return new TableMetrics(prep.Task)
        {
            Count = n, Loss = loss, Mae = ae / n, Rmse = Math.Sqrt(se / n), R2 = sst > 0 ? 1 - se / sst : double.NaN, Actual = actual, Predicted = predicted,
        };
    }

    /// <summary>The figures as metrics.json and <c>nn evaluate --json</c> write them.</summary>
    public Dictionary<string, object?> ToDictionary()
    {
        var d = new Dictionary<string, object?> { ["task"] = Task };
        if (Classification is { } m)
        {
            d["test_accuracy"] = m.Accuracy;
            d["test_loss"] = Loss;
            d["test_samples"] = Count;
            int c = m.Confusion.GetLength(0);
            d["confusion_matrix"] = Enumerable.Range(0, c).Select(i => Enumerable.Range(0, c).Select(j => m.Confusion[i, j]).ToArray()).ToArray();
        }
        else
        {
            d["test_mae"] = Mae;
            d["test_rmse"] = Rmse;
            d["test_r2"] = R2;
            d["test_loss"] = Loss;
            d["test_samples"] = Count;
        }
        return d;
    }

    /// <summary>With the class names (classification), which the dictionary form keeps beside the matrix.</summary>
    public Dictionary<string, object?> ToDictionary(TablePreprocessing prep)
    {
        var d = ToDictionary();
        if (prep.IsClassification) d["classes"] = prep.Classes;
        return d;
    }

    /// <summary>One line: "test accuracy 97.37%, loss 0.0712 (114 rows)" or "test MAE 41.2, RMSE 52.3, R² 0.512, loss 0.49 (89 rows)".</summary>
    public string Describe(TablePreprocessing prep) => Classification is { } m
        ? string.Create(CultureInfo.InvariantCulture, $"test accuracy {m.Accuracy:P2}, test loss {Loss:F4} ({Count} rows)")
        : string.Create(CultureInfo.InvariantCulture, $"test MAE {Mae:G4}, RMSE {Rmse:G4}, R² {R2:F4} ({prep.Target}, original scale); test loss {Loss:F4} ({Count} rows)");

    /// <summary>The confusion matrix as text, rows the true classes.</summary>
    public string ConfusionTable(TablePreprocessing prep)
    {
        var m = Classification!;
        int c = prep.Classes.Length, width = Math.Max(6, prep.Classes.Max(n => n.Length) + 1);
        var sb = new StringBuilder("true \\ predicted".PadRight(width + 2));
        foreach (string name in prep.Classes) sb.Append(name.PadLeft(width));
        sb.AppendLine();
        for (int i = 0; i < c; i++)
        {
            sb.Append(prep.Classes[i].PadRight(width + 2));
            for (int j = 0; j < c; j++) sb.Append(m.Confusion[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public void WriteFigures(string folder, TablePreprocessing prep)
    {
        Directory.CreateDirectory(folder);
        if (Classification is { } m)
        {
            Figures.ConfusionMatrix(m.Confusion, prep.Classes, Path.Combine(folder, "confusion_matrix.png"));
            return;
        }
        RegressionFigures.PredictedVsActual(Actual, Predicted, prep.Target, R2, Path.Combine(folder, "predicted_vs_actual.png"));
        RegressionFigures.Residuals(Actual, Predicted, prep.Target, Path.Combine(folder, "residuals.png"));
    }
}
