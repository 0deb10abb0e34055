namespace NeuralNet.Optim.Schedules;

/// <summary>
/// Cosine annealing (Loshchilov and Hutter, SGDR, without restarts): η = η_min + (η₀ − η_min)·(1 + cos(π·epoch/T))/2
/// for epoch ≤ T, then η_min.
/// </summary>
public sealed class CosineAnnealing : LearningRateSchedule
{
    public CosineAnnealing(int tMax, double minLearningRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tMax, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(minLearningRate);
        (TMax, MinLearningRate) = (tMax, minLearningRate);
    }

    public int TMax { get; }

    public double MinLearningRate { get; }

    public override double At(int epoch, double baseLearningRate) =>
        epoch >= TMax ? MinLearningRate : MinLearningRate + (baseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;

    public override string ToString() => $"cosine(T={TMax}, min={MinLearningRate})";
}
