namespace NeuralNet.Training;

/// <summary>Why <see cref="Trainer.Fit{T}"/> stopped. Written to JSON and printed as "completed", "early stopping", "cancelled", "diverged".</summary>
public enum StopReason
{
    /// <summary>All epochs ran.</summary>
    Completed,

    /// <summary>The monitored loss did not improve for the patience's number of epochs.</summary>
    EarlyStopping,

    /// <summary>The cancellation token was set.</summary>
    Cancelled,

    /// <summary>The training loss became NaN or infinite.</summary>
    Diverged,
}
