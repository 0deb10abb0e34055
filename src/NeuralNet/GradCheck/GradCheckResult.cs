using System.Globalization;
using System.Text;

namespace NeuralNet.GradCheck;

/// <summary>
/// The comparison of analytic and numerical gradients for one tensor (the input or one parameter).
/// <see cref="RelativeError"/> = ‖a − n‖₂ / (‖a‖₂ + ‖n‖₂) over all its entries (0 when both are zero).
/// The worst entry is the one with the largest |a − n|.
/// </summary>
public sealed record GradCheckResult(
    string Name,
    int Count,
    double RelativeError,
    int WorstIndex,
    double WorstAnalytic,
    double WorstNumeric);

/// <summary>All results of one gradient check, with the worst one and a printable table.</summary>
public sealed class GradCheckReport(string subject, IReadOnlyList<GradCheckResult> results)
{
    /// <summary>What was checked, e.g. "Linear(in_features=5, out_features=3, bias=True)".</summary>
    public string Subject { get; } = subject;

    /// <summary>One result per checked tensor: "input" first, then the parameters by name.</summary>
    public IReadOnlyList<GradCheckResult> Results { get; } = results;

    /// <summary>The largest relative error over every checked tensor.</summary>
    public double MaxRelativeError => Results.Count == 0 ? 0 : Results.Max(r => r.RelativeError);

    /// <summary>The result with the largest relative error.</summary>
    public GradCheckResult Worst => Results.MaxBy(r => r.RelativeError)!;

    /// <summary>True when every relative error is below <paramref name="tolerance"/>.</summary>
    public bool Passed(double tolerance) => Results.All(r => r.RelativeError < tolerance);

    /// <summary>A markdown table: tensor, entries, relative error, worst entry.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{Subject}");
        sb.AppendLine("| tensor | entries | relative error | worst entry (analytic vs numeric) |");
        sb.AppendLine("|---|---:|---:|---|");
        foreach (var r in Results)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Count} | {r.RelativeError:E2} | [{r.WorstIndex}] {r.WorstAnalytic:G10} vs {r.WorstNumeric:G10} |");
        return sb.ToString();
    }

    /// <summary>One line: <c>SUBJECT: max relative error 1.23E-010 (weight[17])</c>, naming the worst tensor and its worst entry.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Subject}: max relative error {MaxRelativeError:E2} ({Worst.Name}[{Worst.WorstIndex}])");
}
