using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NeuralNet.Training;

/// <summary>
/// The metrics of one epoch. Validation figures are NaN when there is no validation set. TrainAccuracy and
/// ValidationAccuracy hold the run's metric: accuracy for classification, or the metric given to
/// <see cref="Trainer.Fit{T}"/> (e.g. MAE for regression), named by <see cref="History.MetricName"/>.
/// </summary>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double ValidationLoss,
    double ValidationAccuracy,
    double LearningRate,
    double Seconds);

/// <summary>Per-epoch metrics of a training run, how it ended, and which epoch was best.</summary>
public sealed class History
{
    private readonly List<EpochRecord> _epochs = [];

    /// <summary>The epochs, in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>The epoch with the lowest validation loss (or training loss without validation); −1 before any.</summary>
    public int BestEpoch { get; internal set; } = -1;

    /// <summary>Why training stopped (written as "completed", "early stopping", "cancelled" or "diverged").</summary>
    public StopReason StopReason { get; internal set; } = StopReason.Completed;

    /// <summary>The metric in <see cref="EpochRecord.TrainAccuracy"/> and <see cref="EpochRecord.ValidationAccuracy"/>: "accuracy", "mae", "r2".</summary>
    public string MetricName { get; set; } = "accuracy";

    internal void Add(EpochRecord record) => _epochs.Add(record);

    /// <summary>A copy with the same epochs, best epoch and stop reason.</summary>
    public History Clone()
    {
        var copy = new History { BestEpoch = BestEpoch, StopReason = StopReason, MetricName = MetricName };
        copy._epochs.AddRange(_epochs);
        return copy;
    }

    /// <summary>The history as CSV: epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds (accuracy: the <see cref="MetricName"/>).</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder($"epoch,train_loss,train_{MetricName},val_loss,val_{MetricName},learning_rate,seconds\n");
        foreach (var e in _epochs)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{e.Epoch},{e.TrainLoss:R},{e.TrainAccuracy:R},{e.ValidationLoss:R},{e.ValidationAccuracy:R},{e.LearningRate:R},{e.Seconds:R}"));
        return sb.ToString();
    }

    /// <summary>The history as JSON (NaN written as null).</summary>
    public string ToJson()
    {
        static double? N(double v) => double.IsFinite(v) ? v : null;
        var doc = new Dictionary<string, object?>
        {
            ["best_epoch"] = BestEpoch,
            ["stop_reason"] = StopReason.ToText(),
            ["epochs"] = _epochs.Select(e => new Dictionary<string, object?>
            {
                ["epoch"] = e.Epoch, ["train_loss"] = N(e.TrainLoss), [$"train_{MetricName}"] = N(e.TrainAccuracy), ["val_loss"] = N(e.ValidationLoss),
                [$"val_{MetricName}"] = N(e.ValidationAccuracy), ["learning_rate"] = e.LearningRate, ["seconds"] = e.Seconds,
            }),
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
    }
}
