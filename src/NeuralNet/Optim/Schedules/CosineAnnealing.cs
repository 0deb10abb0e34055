namespace NeuralNet.Optim.Schedules;

/// <summary>
/// Cosine annealing (Loshchilov and Hutter, SGDR, without restarts): η = η_min + (η₀ − η_min)·(1 + cos(π·epoch/T))/2
/// for epoch ≤ T, then η_min.
/// </summary>
public sealed class CosineAnnealing : LearningRateSchedule
{
    /// <summary>Anneals from η₀ to <paramref name="minLearningRate"/> over <paramref name="tMax"/> epochs.</summary>
    /// <param name="tMax">T ≥ 1, the number of epochs of the half cosine.</param>
    /// <param name="minLearningRate">η_min ≥ 0 (default 0), the rate at epoch T and after.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tMax"/> &lt; 1 or <paramref name="minLearningRate"/> &lt; 0.</exception>
    public CosineAnnealing(int tMax, double minLearningRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tMax, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(minLearningRate);
        (TMax, MinLearningRate) = (tMax, minLearningRate);
    }

    /// <summary>T, in epochs: the rate reaches η_min at epoch T.</summary>
    public int TMax { get; }

    /// <summary>η_min ≥ 0, the final rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>η = η_min + (η₀ − η_min)·(1 + cos(π·epoch/T))/2 for epoch &lt; T, η_min from epoch T on.</summary>
    public override double At(int epoch, double baseLearningRate) =>
        epoch >= TMax ? MinLearningRate : MinLearningRate + (baseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;

    /// <summary>E.g. <c>cosine(T=10, min=0)</c>.</summary>
    public override string ToString() => $"cosine(T={TMax}, min={MinLearningRate})";
}
