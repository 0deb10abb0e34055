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
    /// <summary>One cycle over <paramref name="epochs"/> epochs, peaking at η₀.</summary>
    /// <param name="epochs">The length of the cycle in epochs (≥ 1); the rate stays at η_end after it.</param>
    /// <param name="warmupFraction">W in (0, 1), the fraction of all steps spent rising (default 0.25).</param>
    /// <param name="divFactor">d ≥ 1: the cycle starts at η₀/d (default 25).</param>
    /// <param name="finalDivFactor">f ≥ 1: the cycle ends at η₀/(d·f) (default 1e4).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public OneCycle(int epochs, double warmupFraction = 0.25, double divFactor = 25, double finalDivFactor = 1e4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        if (!(warmupFraction > 0 && warmupFraction < 1)) throw new ArgumentOutOfRangeException(nameof(warmupFraction), warmupFraction, "OneCycle: warmupFraction must be in (0, 1).");
        if (!(divFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "OneCycle: divFactor must be ≥ 1.");
        if (!(finalDivFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "OneCycle: finalDivFactor must be ≥ 1.");
        (Epochs, WarmupFraction, DivFactor, FinalDivFactor) = (epochs, warmupFraction, divFactor, finalDivFactor);
    }

    /// <summary>The length of the cycle, in epochs (≥ 1).</summary>
    public int Epochs { get; }

    /// <summary>W in (0, 1): the fraction of the cycle during which the rate rises.</summary>
    public double WarmupFraction { get; }

    /// <summary>d ≥ 1: the starting rate is η₀/d.</summary>
    public double DivFactor { get; }

    /// <summary>f ≥ 1: the final rate is η₀/(d·f).</summary>
    public double FinalDivFactor { get; }

    /// <summary>True: the rate is set before every batch.</summary>
    public override bool PerStep => true;

    /// <summary>The rate at the start of <paramref name="epoch"/>: <see cref="AtStep"/> with step 0.</summary>
    public override double At(int epoch, double baseLearningRate) => AtStep(epoch, 0, 1, baseLearningRate);

    /// <summary>The rate at t = (epoch + step/stepsPerEpoch)/epochs, clamped to [0, 1]: the rising then the falling half cosine of the class formula.</summary>
    public override double AtStep(int epoch, int step, int stepsPerEpoch, double baseLearningRate)
    {
        double t = Math.Clamp((epoch + (double)step / Math.Max(1, stepsPerEpoch)) / Epochs, 0, 1);
        double start = baseLearningRate / DivFactor, end = start / FinalDivFactor;
        if (t <= WarmupFraction) return start + (baseLearningRate - start) * (1 - Math.Cos(Math.PI * t / WarmupFraction)) / 2;
        return end + (baseLearningRate - end) * (1 + Math.Cos(Math.PI * (t - WarmupFraction) / (1 - WarmupFraction))) / 2;
    }

    /// <summary>E.g. <c>onecycle(epochs=5, warmup=0.25, div=25, final_div=10000)</c>.</summary>
    public override string ToString() => $"onecycle(epochs={Epochs}, warmup={WarmupFraction}, div={DivFactor}, final_div={FinalDivFactor})";
}
