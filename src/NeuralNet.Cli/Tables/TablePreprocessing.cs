using System.Globalization;
using System.Text.Json;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// Everything that turns rows of a CSV table into a model's inputs and targets, learned from the training split only
/// and stored in the checkpoint's metadata (key "preprocessing") so that <c>nn evaluate</c> and <c>nn predict</c> apply
/// exactly the same: the feature columns (standardized numbers, one-hot categories), the target and its task, the class
/// names (classification) or the target's mean and deviation (regression: the model predicts (y − mean)/std).
/// </summary>
internal sealed record TablePreprocessing
{
    public const string MetadataKey = "preprocessing";

    public required string Target { get; init; }

    /// <summary>"classification" or "regression".</summary>
    public required string Task { get; init; }

    public required TableColumn[] Columns { get; init; }

    /// <summary>Class names in the order of the model's outputs (classification).</summary>
    public string[] Classes { get; init; } = [];

    public double TargetMean { get; init; }

    public double TargetStd { get; init; } = 1;

    /// <summary>The training loss: "cross_entropy", "mse" or "huber" (regression losses on the standardized target).</summary>
    public string Loss { get; init; } = "cross_entropy";

    /// <summary>"mean", "median", "mode", or null when missing values are refused.</summary>
    public string? FillRule { get; init; }

    public bool IsClassification => Task == "classification";

    /// <summary>The number of model inputs.</summary>
    public int Inputs => Columns.Sum(c => c.Width);

    /// <summary>The number of model outputs: one per class, or 1 for regression.</summary>
    public int Outputs => IsClassification ? Classes.Length : 1;

    /// <summary>A regression output on the target's original scale: y·std + mean (the model predicts (y − mean)/std).</summary>
    public double TargetValue(float output) => output * TargetStd + TargetMean;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static TablePreprocessing FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TablePreprocessing>(json, s_json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new CliException($"{source}: the stored table preprocessing is not valid: {e.Message}", 1);
        }
    }

    /// <summary>The task a target column implies: classification for text or integers with ≤ 20 distinct values, else regression.</summary>
    public static string DetectTask(CsvTable table, int target)
    {
        var values = new HashSet<double>();
        foreach (var row in table.Rows)
        {
            string cell = row[target];
            if (CsvTable.IsMissing(cell)) continue;
            if (!CsvTable.TryNumber(cell, table.DecimalComma, out double v)) return "classification";
            values.Add(v);
        }
        return values.Count <= 20 && values.All(double.IsInteger) ? "classification" : "regression";
    }

    /// <summary>
    /// Column kinds from the whole table (a column is numeric when at least 80% of its values are numbers; the others
    /// are then errors), statistics and categories from <paramref name="trainRows"/> only.
    /// </summary>
    public static TablePreprocessing Fit(CsvTable table, int[] trainRows, string target, IReadOnlyCollection<string> ignore, string task, string? fill)
    {
        int t = table.IndexOf(target, "--target");
        foreach (string name in ignore) table.IndexOf(name, "--ignore");
        if (ignore.Contains(target)) throw new CliException($"--ignore lists the target column '{target}'", 2);
        CheckTarget(table, t);
        var columns = new List<TableColumn>();
        for (int c = 0; c < table.Columns.Length; c++)
        {
            if (c == t || ignore.Contains(table.Columns[c])) continue;
            columns.Add(FitColumn(table, c, trainRows, fill));
        }
        if (columns.Count == 0) throw new CliException($"{table.Path}: no feature columns are left besides the target '{target}'", 1);

        string[] classes = [];
        double mean = 0, std = 1;
        if (task == "classification")
        {
            classes = ClassNames(table, t);
            if (classes.Length < 2)
                throw new CliException($"{table.Path}: the target '{target}' has one class only ('{classes[0]}'); a classifier needs at least two", 1);
        }
        else
        {
            var y = trainRows.Select(r => TargetNumber(table, r, t)).ToArray();
            mean = y.Average();
            std = Deviation(y, mean);
        }
        return new TablePreprocessing { Target = target, Task = task, Columns = columns.ToArray(), Classes = classes, TargetMean = mean, TargetStd = std, FillRule = fill };
    }

    /// <summary>The class names of a classification target, sorted (numerically when they are numbers).</summary>
    public static string[] ClassNames(CsvTable table, int target)
    {
        var names = table.Rows.Select(r => r[target]).Distinct().ToList();
        bool numeric = names.All(n => CsvTable.TryNumber(n, table.DecimalComma, out _));
        if (numeric)
        {
            // "1" and "1.0" are one class: name it by its value.
            return names.Select(n => { CsvTable.TryNumber(n, table.DecimalComma, out double v); return v; }).Distinct().Order()
                .Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray();
        }
        return names.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The class index of each row (classification), refusing classes the model does not know.</summary>
    public int[] Labels(CsvTable table, IReadOnlyList<int> rows)
    {
        int t = table.IndexOf(Target, "the model's target");
        var index = new Dictionary<string, int>();
        for (int i = 0; i < Classes.Length; i++) index[Classes[i]] = i;
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            string cell = table.Rows[rows[i]][t];
            string key = CsvTable.TryNumber(cell, table.DecimalComma, out double v) && Classes.All(c => CsvTable.TryNumber(c, false, out _))
                ? v.ToString("R", CultureInfo.InvariantCulture) : cell;
            if (!index.TryGetValue(key, out labels[i]))
                throw new CliException($"{table.Where(rows[i], t)}: class '{cell}' is not one the model knows ({string.Join(", ", Classes)})", 1);
        }
        return labels;
    }

    /// <summary>The model inputs (rows.Count, <see cref="Inputs"/>) of <paramref name="rows"/>.</summary>
    public Tensor<float> Features(CsvTable table, IReadOnlyList<int> rows)
    {
        var index = Columns.Select(c => table.IndexOf(c.Name, "the model's column")).ToArray();
        var x = new Tensor<float>(rows.Count, Inputs);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = table.Rows[rows[i]];
            Span<float> dst = x.Row(i);
            int k = 0;
            for (int j = 0; j < Columns.Length; j++)
            {
                var col = Columns[j];
                string cell = row[index[j]];
                bool missing = CsvTable.IsMissing(cell);
                if (missing && col.Fill is null && col.FillCategory is null) throw MissingValue(table, rows[i], index[j]);
                if (col.IsNumeric)
                {
                    double v = missing ? col.Fill!.Value : Number(table, rows[i], index[j]);
                    dst[k++] = (float)((v - col.Mean) / col.Std);
                }
                else
                {
                    int c = Array.IndexOf(col.Categories, missing ? col.FillCategory : cell);
                    if (c >= 0) dst[k + c] = 1;
                    k += col.Width;
                }
            }
        }
        return x;
    }

    /// <summary>The data set of <paramref name="rows"/>: class labels, or standardized targets (N, 1).</summary>
    public Dataset<float> Dataset(CsvTable table, IReadOnlyList<int> rows)
    {
        var x = Features(table, rows);
        if (IsClassification) return new Dataset<float>(x, Labels(table, rows), Classes.Length, Classes);
        int t = table.IndexOf(Target, "the model's target");
        var y = new Tensor<float>(rows.Count, 1);
        for (int i = 0; i < rows.Count; i++) y[i, 0] = (float)((TargetNumber(table, rows[i], t) - TargetMean) / TargetStd);
        return new Dataset<float>(x, y);
    }

    private static TableColumn FitColumn(CsvTable table, int c, int[] trainRows, string? fill)
    {
        int numbers = 0, present = 0, firstText = -1;
        for (int r = 0; r < table.Rows.Count; r++)
        {
            string cell = table.Rows[r][c];
            if (CsvTable.IsMissing(cell)) continue;
            present++;
            if (CsvTable.TryNumber(cell, table.DecimalComma, out _)) numbers++;
            else if (firstText < 0) firstText = r;
        }
        if (present == 0) throw new CliException($"{table.Path}: column '{table.Columns[c]}' has no values; leave it out with --ignore {table.Columns[c]}", 1);
        string name = table.Columns[c];
        if (numbers >= 0.8 * present)
        {
            if (firstText >= 0)
                throw new CliException($"{table.Where(firstText, c)}: '{table.Rows[firstText][c]}' is not a number, but the column is numeric ({numbers} of {present} values are numbers)", 1);
            var values = new List<double>();
            foreach (int r in trainRows)
            {
                string cell = table.Rows[r][c];
                if (!CsvTable.IsMissing(cell)) values.Add(Number(table, r, c));
                else if (fill is null) throw MissingValue(table, r, c);
            }
            if (values.Count == 0) throw new CliException($"{table.Path}: column '{name}' has no values in the training split", 1);
            double? fillValue = fill switch
            {
                null => null,
                "mean" => values.Average(),
                "median" => Median(values),
                _ => values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key,
            };
            // Statistics after filling: the filled values are part of the training inputs.
            int missingCount = trainRows.Length - values.Count;
            if (fillValue is double f) values.AddRange(Enumerable.Repeat(f, missingCount));
            double mean = values.Average();
            return new TableColumn { Name = name, Kind = "numeric", Mean = mean, Std = Deviation(values, mean), Fill = fillValue };
        }
        var cells = new List<string>();
        foreach (int r in trainRows)
        {
            string cell = table.Rows[r][c];
            if (!CsvTable.IsMissing(cell)) cells.Add(cell);
            else if (fill is null) throw MissingValue(table, r, c);
        }
        string[] categories = cells.Distinct().Order(StringComparer.Ordinal).ToArray();
        string? mode = fill is null || cells.Count == 0 ? null : cells.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        return new TableColumn { Name = name, Kind = "categorical", Categories = categories, FillCategory = mode };
    }

    private static void CheckTarget(CsvTable table, int t)
    {
        for (int r = 0; r < table.Rows.Count; r++)
            if (CsvTable.IsMissing(table.Rows[r][t]))
                throw new CliException($"{table.Where(r, t)}: the target has no value ('{table.Rows[r][t]}'); remove the row (--fill fills features, never the target)", 1);
    }

    private static double TargetNumber(CsvTable table, int row, int t)
    {
        string cell = table.Rows[row][t];
        if (CsvTable.IsMissing(cell)) throw new CliException($"{table.Where(row, t)}: the target has no value ('{cell}')", 1);
        if (!CsvTable.TryNumber(cell, table.DecimalComma, out double v))
            throw new CliException($"{table.Where(row, t)}: '{cell}' is not a number, but regression needs a numeric target", 1);
        return v;
    }

    private static double Number(CsvTable table, int row, int c)
    {
        string cell = table.Rows[row][c];
        if (!CsvTable.TryNumber(cell, table.DecimalComma, out double v))
            throw new CliException($"{table.Where(row, c)}: '{cell}' is not a number, but the column is numeric", 1);
        return v;
    }

    private static CliException MissingValue(CsvTable table, int row, int c) =>
        new($"{table.Where(row, c)}: missing value ('{table.Rows[row][c]}'); fill missing values with --fill mean|median|mode when training", 1);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /// <summary>The population standard deviation, or 1 for a constant column (so it standardizes to 0, not NaN).</summary>
    private static double Deviation(IReadOnlyCollection<double> values, double mean)
    {
        double ss = values.Sum(v => (v - mean) * (v - mean));
        double std = Math.Sqrt(ss / Math.Max(1, values.Count));
        return std > 1e-12 ? std : 1;
    }
}
