using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>
/// A figure of merit accumulated over the batches of an epoch: <see cref="Reset"/>, then <see cref="Update"/> with each
/// batch's model output, then <see cref="Value"/>. <see cref="Trainer.Fit{T}"/> reports it beside the loss
/// (<see cref="EpochRecord.TrainAccuracy"/> and <see cref="EpochRecord.ValidationAccuracy"/> hold it, named by
/// <see cref="History.MetricName"/>); it never steers training.
/// </summary>
public abstract class Metric<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The name used in files and messages: "accuracy", "mae", "r2".</summary>
    public abstract string Name { get; }

    /// <summary>True when larger values are better (accuracy, R²), false for errors (MAE).</summary>
    public abstract bool HigherIsBetter { get; }

    /// <summary>Forgets everything seen so far.</summary>
    public abstract void Reset();

    /// <summary>Adds one batch: <paramref name="output"/> (B, K) is the model's output for <paramref name="batch"/>.</summary>
    public abstract void Update(Tensor<T> output, in Batch<T> batch);

    /// <summary>The metric over every sample since the last <see cref="Reset"/> (NaN before any).</summary>
    public abstract double Value { get; }

    /// <summary>The targets of a regression batch, or a clear error for a batch of class labels.</summary>
    protected Tensor<T> TargetsOf(Tensor<T> output, in Batch<T> batch)
    {
        var t = batch.Targets ?? throw new ArgumentException($"{GetType().Name[..^2]}: the batch holds class labels; this metric needs regression targets.");
        if (t.Shape != output.Shape)
            throw new ShapeMismatchException($"{GetType().Name[..^2]}.Update: output {output.Shape} and targets {t.Shape} differ.");
        return t;
    }
}
