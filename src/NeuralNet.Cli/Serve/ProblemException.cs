namespace NeuralNet.Cli.Serve;

/// <summary>A request the server refuses: the HTTP status and an RFC 7807 problem's title and detail.</summary>
internal sealed class ProblemException(int status, string title, string detail) : Exception(detail)
{
    /// <summary>400, 413, 415, ….</summary>
    public int Status { get; } = status;

    /// <summary>The kind of problem, the same for every request that has it: "Wrong number of values".</summary>
    public string Title { get; } = title;
}
