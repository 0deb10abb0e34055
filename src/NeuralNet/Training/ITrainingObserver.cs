namespace NeuralNet.Training;

/// <summary>
/// Progress callbacks from <see cref="Trainer"/>; the library itself writes nothing to the console.
/// Every method has an empty default, so an observer implements only what it draws.
/// </summary>
public interface ITrainingObserver
{
    /// <summary>Called before the first batch of <paramref name="epoch"/> (0-based).</summary>
    void OnEpochStart(int epoch, int batches, double learningRate) { }

    /// <summary>Called after each batch with the running mean loss of the epoch so far and the samples processed.</summary>
    void OnBatchEnd(int epoch, int batch, int batches, double runningLoss, long samplesSoFar) { }

    /// <summary>Called after the epoch's evaluation.</summary>
    void OnEpochEnd(EpochRecord record, bool isBest) { }

    /// <summary>
    /// Called after <see cref="OnEpochEnd"/> when the epoch ran all its batches: the model, the optimizer and the
    /// <see cref="FitState{T}"/> now describe a point that training can resume from exactly, at <paramref name="nextEpoch"/>.
    /// </summary>
    void OnResumePoint(int nextEpoch) { }
}
