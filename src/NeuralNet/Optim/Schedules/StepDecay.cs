namespace NeuralNet.Optim.Schedules;

/// <summary>Step decay: η = η₀·γ^⌊epoch / stepSize⌋ (PyTorch's StepLR).</summary>
public sealed class StepDecay : LearningRateSchedule
{
    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="stepSize"/> epochs.</summary>
    /// <param name="stepSize">The number of epochs between decays (≥ 1).</param>
    /// <param name="gamma">γ &gt; 0, the factor applied at each decay (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> &lt; 1 or <paramref name="gamma"/> ≤ 0.</exception>
    public StepDecay(int stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        if (!(gamma > 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "StepDecay: gamma must be > 0.");
        (StepSize, Gamma) = (stepSize, gamma);
    }

    /// <summary>The number of epochs between decays (≥ 1).</summary>
    public int StepSize { get; }

    /// <summary>γ &gt; 0, the factor applied every <see cref="StepSize"/> epochs.</summary>
    public double Gamma { get; }

    /// <summary>η = η₀·γ^⌊epoch / stepSize⌋.</summary>
    public override double At(int epoch, double baseLearningRate) => baseLearningRate * Math.Pow(Gamma, epoch / StepSize);

    /// <summary>E.g. <c>step(size=10, gamma=0.1)</c>.</summary>
    public override string ToString() => $"step(size={StepSize}, gamma={Gamma})";
}
