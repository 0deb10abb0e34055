using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralNet.Cli;

/// <summary>
/// The options of every JSON document nn writes: a loss or probability that is infinite or NaN is written as the
/// string "Infinity", "-Infinity" or "NaN" (JSON has no such numbers, and System.Text.Json refuses them by default),
/// so a diverged model is reported, not a crash.
/// </summary>
internal static class CliJson
{
    /// <summary>One line: the --json output of evaluate and predict.</summary>
    public static readonly JsonSerializerOptions Compact = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Indented: metrics.json and the files of a run.</summary>
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
