namespace NeuralNet.Optim.Schedules;

/// <summary>
/// Linear warm-up: η rises from η₀/(W+1)… to η₀ over the first W epochs, η = η₀·(epoch + 1)/(W + 1), then follows
/// <see cref="After"/> (shifted so that it starts at its own epoch 0).
/// </summary>
public sealed class LinearWarmup : LearningRateSchedule
{
    /// <summary>Warms up over <paramref name="warmupEpochs"/> epochs, then hands over to <paramref name="after"/>.</summary>
    /// <param name="warmupEpochs">W ≥ 0, the number of warm-up epochs (0: <paramref name="after"/> from the start).</param>
    /// <param name="after">The schedule from epoch W on, counted from its own epoch 0 (default <see cref="LearningRateSchedule.Constant"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupEpochs"/> &lt; 0.</exception>
    public LinearWarmup(int warmupEpochs, LearningRateSchedule? after = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        WarmupEpochs = warmupEpochs;
        After = after ?? Constant;
    }

    /// <summary>W, the number of warm-up epochs (≥ 0).</summary>
    public int WarmupEpochs { get; }

    /// <summary>The schedule followed after the warm-up, at epoch − W.</summary>
    public LearningRateSchedule After { get; }

    /// <summary>η = η₀·(epoch + 1)/(W + 1) for epoch &lt; W, then <see cref="After"/>.At(epoch − W, η₀).</summary>
    public override double At(int epoch, double baseLearningRate) =>
        epoch < WarmupEpochs ? baseLearningRate * (epoch + 1) / (WarmupEpochs + 1) : After.At(epoch - WarmupEpochs, baseLearningRate);

    /// <summary>E.g. <c>warmup(5) then cosine(T=10, min=0)</c>.</summary>
    public override string ToString() => $"warmup({WarmupEpochs}) then {After}";
}
