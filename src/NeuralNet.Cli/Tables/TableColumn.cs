namespace NeuralNet.Cli.Tables;

/// <summary>
/// How one feature column becomes model inputs. Numeric: one input, (x − Mean)/Std. Categorical: one input per
/// category of the training split (one-hot; a category never seen in training gives all zeros).
/// Fill/FillCategory replace a missing value when the model was trained with <c>--fill</c>.
/// </summary>
internal sealed record TableColumn
{
    public required string Name { get; init; }

    /// <summary>"numeric" or "categorical".</summary>
    public required string Kind { get; init; }

    public double Mean { get; init; }

    public double Std { get; init; } = 1;

    public string[] Categories { get; init; } = [];

    public double? Fill { get; init; }

    public string? FillCategory { get; init; }

    public bool IsNumeric => Kind == "numeric";

    /// <summary>The number of model inputs this column gives.</summary>
    public int Width => IsNumeric ? 1 : Categories.Length;
}
