namespace NeuralNet.Training;

/// <summary>The words for a <see cref="StopReason"/> in JSON files and messages.</summary>
public static class StopReasonText
{
    /// <summary>"completed", "early stopping", "cancelled" or "diverged".</summary>
    public static string ToText(this StopReason reason) => reason switch
    {
        StopReason.Completed => "completed",
        StopReason.EarlyStopping => "early stopping",
        StopReason.Cancelled => "cancelled",
        StopReason.Diverged => "diverged",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "StopReason: unknown value."),
    };

    /// <summary>The <see cref="StopReason"/> that <see cref="ToText"/> writes as <paramref name="text"/>.</summary>
    public static StopReason Parse(string text) => text switch
    {
        "completed" => StopReason.Completed,
        "early stopping" => StopReason.EarlyStopping,
        "cancelled" => StopReason.Cancelled,
        "diverged" => StopReason.Diverged,
        _ => throw new FormatException($"StopReason: \"{text}\" is none of completed, early stopping, cancelled, diverged."),
    };
}
