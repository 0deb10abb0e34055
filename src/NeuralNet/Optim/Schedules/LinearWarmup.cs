namespace NeuralNet.Optim.Schedules;

/// <summary>
/// Linear warm-up: η rises from η₀/(W+1)… to η₀ over the first W epochs, η = η₀·(epoch + 1)/(W + 1), then follows
/// <see cref="After"/> (shifted so that it starts at its own epoch 0).
/// </summary>
public sealed class LinearWarmup : LearningRateSchedule
{
    public LinearWarmup(int warmupEpochs, LearningRateSchedule? after = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        WarmupEpochs = warmupEpochs;
        After = after ?? Constant;
    }

    public int WarmupEpochs { get; }

    public LearningRateSchedule After { get; }

    public override double At(int epoch, double baseLearningRate) =>
        epoch < WarmupEpochs ? baseLearningRate * (epoch + 1) / (WarmupEpochs + 1) : After.At(epoch - WarmupEpochs, baseLearningRate);

    public override string ToString() => $"warmup({WarmupEpochs}) then {After}";
}
