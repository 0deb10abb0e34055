namespace NeuralNet.Optim.Schedules;

/// <summary>Step decay: η = η₀·γ^⌊epoch / stepSize⌋ (PyTorch's StepLR).</summary>
public sealed class StepDecay : LearningRateSchedule
{
    public StepDecay(int stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        if (!(gamma > 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "StepDecay: gamma must be > 0.");
        (StepSize, Gamma) = (stepSize, gamma);
    }

    public int StepSize { get; }

    public double Gamma { get; }

    public override double At(int epoch, double baseLearningRate) => baseLearningRate * Math.Pow(Gamma, epoch / StepSize);

    public override string ToString() => $"step(size={StepSize}, gamma={Gamma})";
}
