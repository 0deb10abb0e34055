using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>
/// Where <see cref="Trainer.Fit{T}"/> stands between epochs, beyond the model's weights and the optimizer's state:
/// the epochs run so far, η₀ of the schedule, the early-stopping count and the best weights. Fit updates it after every
/// epoch; pass the same (or a reloaded) state to a later Fit and it continues exactly where this one stopped.
/// </summary>
/// <remarks>
/// The order of the batches and the augmentation need no state here: the data loader reseeds them from (seed, epoch).
/// A model's own random sources (<see cref="Module{T}.NamedRandomSources"/>, Dropout's masks) do, and are saved
/// with the model (see <c>Checkpoints.TrainingCheckpoint</c>).
/// </remarks>
public sealed class FitState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _bestWeights;

    /// <summary>A fresh state for <paramref name="model"/>: no epoch run, no best yet.</summary>
    public FitState(Module<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _bestWeights = model.StateDict().Select(s => new Tensor<T>(s.Tensor.Shape)).ToArray();
    }

    /// <summary>The epoch to run next: the number of epochs completed (all their batches run and evaluated).</summary>
    public int NextEpoch { get; set; }

    /// <summary>η₀ from which the schedule computes each rate; null until Fit starts (it then takes the optimizer's rate).</summary>
    public double? BaseLearningRate { get; set; }

    /// <summary>The completed epochs' metrics and the best epoch.</summary>
    public History History { get; } = new();

    /// <summary>The lowest monitored loss so far (validation loss, or training loss without validation); +∞ before any epoch.</summary>
    public double BestLoss { get; set; } = double.PositiveInfinity;

    /// <summary>Epochs since the best one: early stopping ends training when this reaches the patience.</summary>
    public int EpochsSinceBest { get; set; }

    /// <summary>A copy of the model's <see cref="Module{T}.StateDict"/> tensors at the best epoch, in the same order.</summary>
    public IReadOnlyList<Tensor<T>> BestWeights => _bestWeights;

    /// <summary>True when early stopping with <paramref name="patience"/> has already ended the training this state describes.</summary>
    public bool StoppedEarly(int? patience) => patience is int p && History.BestEpoch >= 0 && EpochsSinceBest >= p;
}
