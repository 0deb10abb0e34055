namespace NeuralNet.Cli.Fetching;

/// <summary>
/// Thrown by <see cref="DataFetcher.Locate"/> when no source could provide a data set. The message lists every
/// source tried, why it failed, and how to fix it; <see cref="Attempts"/> holds the same lines.
/// </summary>
public sealed class DataFetchException : IOException
{
    /// <summary>Creates the exception with its message and the failed attempts.</summary>
    public DataFetchException(string message, IReadOnlyList<string> attempts) : base(message) => Attempts = attempts;

    /// <summary>One line per source tried: what it was and why it failed.</summary>
    public IReadOnlyList<string> Attempts { get; }
}
