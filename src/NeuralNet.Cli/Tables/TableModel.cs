using System.Globalization;
using System.Text;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Commands;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Tables;

/// <summary><c>nn evaluate --csv</c> and <c>nn predict --csv</c>: a table model with its stored preprocessing, applied to a CSV file.</summary>
internal static class TableModel
{
    /// <summary>The model of <paramref name="path"/> and the preprocessing nn train --csv stored with it.</summary>
    public static (Module<float> Model, TablePreprocessing Preprocessing) Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"model file not found: {path}", 1);
        try
        {
            var model = Checkpoint.Load<float>(path);
            var meta = Checkpoint.ReadMetadata(path);
            if (!meta.TryGetValue(TablePreprocessing.MetadataKey, out var json))
                throw new CliException($"{path} was not trained on a table (nn train --csv): it stores no column preprocessing, so --csv cannot be applied", 1);
            return (model, TablePreprocessing.FromJson(json, path));
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException)
        {
            throw new CliException(e.Message, 1);
        }
    }

    public static int Evaluate(string modelPath, string csv, bool json, string? output)
    {
        var (model, prep) = Load(modelPath);
        var table = CsvTable.Read(csv);
        var rows = Enumerable.Range(0, table.Rows.Count).ToArray();
        table.IndexOf(prep.Target, "the model's target");
        var metrics = TableMetrics.Compute(model, prep, prep.Dataset(table, rows));
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(metrics.ToDictionary(prep), CliJson.Compact));
            return 0;
        }
        Console.WriteLine($"{modelPath} on {csv}: {metrics.Describe(prep)}");
        if (prep.IsClassification) Console.Write(metrics.ConfusionTable(prep));
        string folder = output ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(modelPath))!) ?? ".", "evaluation");
        metrics.WriteFigures(folder, prep);
        Console.WriteLine($"figures: {folder}/");
        return 0;
    }

    /// <summary>
    /// Writes the input rows with a <c>prediction</c> column (the class, or the target on its original scale) and, for
    /// classification, one <c>p_CLASS</c> column of probabilities per class, separated as the input is.
    /// The target column need not be present.
    /// </summary>
    public static int Predict(string modelPath, string csv, string? output)
    {
        var (model, prep) = Load(modelPath);
        var table = CsvTable.Read(csv);
        var rows = Enumerable.Range(0, table.Rows.Count).ToArray();
        var x = prep.Features(table, rows);
        var outputs = Trainer.PredictOutputs(model, x);
        var sb = new StringBuilder();
        char sep = table.Separator;
        var header = table.Columns.Append("prediction");
        if (prep.IsClassification) header = header.Concat(prep.Classes.Select(c => "p_" + c));
        sb.AppendLine(string.Join(sep, header.Select(h => Quote(h, sep))));
        var probabilities = new double[prep.Outputs];
        for (int i = 0; i < rows.Length; i++)
        {
            var fields = table.Rows[i].Select(f => Quote(f, sep)).ToList();
            ReadOnlySpan<float> y = outputs.Row(i);
            if (prep.IsClassification)
            {
                // softmax of the logits, the largest subtracted first
                float max = y[Trainer.ArgMax(y)];
                double sum = 0;
                for (int c = 0; c < y.Length; c++) sum += probabilities[c] = Math.Exp(y[c] - max);
                fields.Add(Quote(prep.Classes[Trainer.ArgMax(y)], sep));
                fields.AddRange(probabilities.Select(p => Number(p / sum, sep)));
            }
            else fields.Add(Number(prep.TargetValue(y[0]), sep));
            sb.AppendLine(string.Join(sep, fields));
        }
        if (output is null) Console.Out.Write(sb.ToString());
        else
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
            File.WriteAllText(output, sb.ToString());
            Console.Error.WriteLine($"wrote {rows.Length} predictions to {output}");
        }
        return 0;
    }

    /// <summary>A number as the input writes them: a decimal comma in semicolon files.</summary>
    private static string Number(double v, char sep)
    {
        string text = v.ToString("G6", CultureInfo.InvariantCulture);
        return sep == ';' ? text.Replace('.', ',') : text;
    }

    private static string Quote(string field, char sep) =>
        field.Contains(sep) || field.Contains('"') || field.Contains('\n') || field.Contains('\r') ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
