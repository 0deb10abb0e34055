using NeuralNet.Tensors;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// Seeded train/validation/test splits of row indices. For classification each class is split on its own
/// (stratified): a class of n rows gives round(n·fraction) to the held-out part, so every split keeps the class
/// proportions. The test part is taken first, then the validation part from what remains.
/// </summary>
internal static class TableSplits
{
    public static (int[] Train, int[] Validation, int[] Test) Split(int rows, int[]? labels, double testFraction, double validationFraction, ulong seed, string source)
    {
        if (!(testFraction >= 0 && testFraction < 1)) throw new CliException($"--test-fraction must be in [0, 1), got {testFraction}");
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new CliException($"--val-fraction must be in [0, 1), got {validationFraction}");
        var rng = new Rng(seed);
        var (rest, test) = Hold(Enumerable.Range(0, rows).ToArray(), labels, testFraction, rng);
        var (train, val) = Hold(rest, labels, validationFraction, rng);
        if (train.Length < 2 || (testFraction > 0 && test.Length == 0) || (validationFraction > 0 && val.Length == 0))
        {
            throw new CliException($"{source}: {rows} rows are too few for a test fraction of {testFraction} and a validation fraction of {validationFraction}: " +
                $"the splits would get {train.Length} training, {val.Length} validation and {test.Length} test rows; give more rows or other fractions", 1);
        }
        return (train, val, test);
    }

    /// <summary>Splits <paramref name="rows"/> into (kept, held out), held out ≈ fraction, per class when labels are given; both sorted.</summary>
    private static (int[] Kept, int[] Held) Hold(int[] rows, int[]? labels, double fraction, Rng rng)
    {
        var groups = labels is null ? [rows] : rows.GroupBy(r => labels[r]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var kept = new List<int>();
        var held = new List<int>();
        foreach (var g in groups)
        {
            var order = (int[])g.Clone();
            rng.Shuffle<int>(order);
            int n = (int)Math.Round(fraction * order.Length);
            held.AddRange(order[..n]);
            kept.AddRange(order[n..]);
        }
        kept.Sort();
        held.Sort();
        return (kept.ToArray(), held.ToArray());
    }
}
