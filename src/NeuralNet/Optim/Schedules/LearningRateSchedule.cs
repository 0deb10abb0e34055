namespace NeuralNet.Optim.Schedules;

/// <summary>
/// A learning rate as a function of the epoch (0-based) and the base rate η₀. The trainer sets
/// <c>optimizer.LearningRate = schedule.At(epoch, η₀)</c> before each epoch.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for <paramref name="epoch"/>.</summary>
    public abstract double At(int epoch, double baseLearningRate);

    /// <summary>True when the rate changes within an epoch: the trainer then sets it before every batch from <see cref="AtStep"/>.</summary>
    public virtual bool PerStep => false;

    /// <summary>The learning rate for batch <paramref name="step"/> of <paramref name="stepsPerEpoch"/> in <paramref name="epoch"/> (default: <see cref="At(int, double)"/>).</summary>
    public virtual double AtStep(int epoch, int step, int stepsPerEpoch, double baseLearningRate) => At(epoch, baseLearningRate);

    /// <summary>η₀ for every epoch.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        public override double At(int epoch, double baseLearningRate) => baseLearningRate;

        public override string ToString() => "constant";
    }
}
