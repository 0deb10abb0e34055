namespace NeuralNet.Optim.Schedules;

/// <summary>
/// The one-cycle policy (Smith and Topin, 2017; PyTorch's <c>OneCycleLR</c> with cosine phases), set before every batch.
/// With t = the fraction of all steps done and W = <see cref="WarmupFraction"/>:
/// <code>
///   t ≤ W:  η = η₀/d + (η₀ − η₀/d)·(1 − cos(π·t/W))/2                 rise from η₀/d to the peak η₀
///   t &gt; W:  η = η_end + (η₀ − η_end)·(1 + cos(π·(t − W)/(1 − W)))/2   fall to η_end = η₀/(d·f)
/// </code>
/// d = <see cref="DivFactor"/>, f = <see cref="FinalDivFactor"/>. A short warm-up lets a large peak rate be used
/// safely; the long anneal settles the weights. It suits short trainings of a few epochs.
/// </summary>
public sealed class OneCycle : LearningRateSchedule
{
    public OneCycle(int epochs, double warmupFraction = 0.25, double divFactor = 25, double finalDivFactor = 1e4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        if (!(warmupFraction > 0 && warmupFraction < 1)) throw new ArgumentOutOfRangeException(nameof(warmupFraction), warmupFraction, "OneCycle: warmupFraction must be in (0, 1).");
        if (!(divFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "OneCycle: divFactor must be ≥ 1.");
        if (!(finalDivFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "OneCycle: finalDivFactor must be ≥ 1.");
        (Epochs, WarmupFraction, DivFactor, FinalDivFactor) = (epochs, warmupFraction, divFactor, finalDivFactor);
    }

    public int Epochs { get; }

    public double WarmupFraction { get; }

    public double DivFactor { get; }

    public double FinalDivFactor { get; }

    public override bool PerStep => true;

    public override double At(int epoch, double baseLearningRate) => AtStep(epoch, 0, 1, baseLearningRate);

    public override double AtStep(int epoch, int step, int stepsPerEpoch, double baseLearningRate)
    {
        double t = Math.Clamp((epoch + (double)step / Math.Max(1, stepsPerEpoch)) / Epochs, 0, 1);
        double start = baseLearningRate / DivFactor, end = start / FinalDivFactor;
        if (t <= WarmupFraction) return start + (baseLearningRate - start) * (1 - Math.Cos(Math.PI * t / WarmupFraction)) / 2;
        return end + (baseLearningRate - end) * (1 + Math.Cos(Math.PI * (t - WarmupFraction) / (1 - WarmupFraction))) / 2;
    }

    public override string ToString() => $"onecycle(epochs={Epochs}, warmup={WarmupFraction}, div={DivFactor}, final_div={FinalDivFactor})";
}
