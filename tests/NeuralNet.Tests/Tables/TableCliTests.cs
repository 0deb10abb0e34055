using System.Globalization;
using System.Text;
using System.Text.Json;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using static NeuralNet.Tests.Cli.CliTests;

namespace NeuralNet.Tests.Tables;

/// <summary><c>nn train/evaluate/predict --csv</c> end to end on small tables the tests write.</summary>
[Collection("Console")]
public sealed class TableCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// 200 rows: x1, x2 numeric, colour categorical (red/green/blue), an id column; the class is "hi" when
    /// x1 + x2 + [colour = red] > 0.5, else "lo"; the regression target is 3·x1 − 2·x2 + 5·[red] + 100 + small noise.
    /// </summary>
    private string WriteTable(string name, char sep = ',', bool decimalComma = false, int rows = 200, ulong seed = 1)
    {
        var rng = new Rng(seed);
        string[] colours = ["red", "green", "blue"];
        var sb = new StringBuilder(string.Join(sep, "id", "x1", "x2", "colour", "label", "value") + "\n");
        for (int i = 0; i < rows; i++)
        {
            double x1 = rng.NextDouble(-1, 1), x2 = rng.NextDouble(-1, 1);
            string colour = colours[rng.NextInt(3)];
            double red = colour == "red" ? 1 : 0;
            string label = x1 + x2 + red > 0.5 ? "hi" : "lo";
            double value = 3 * x1 - 2 * x2 + 5 * red + 100 + 0.05 * rng.NextNormal();
            string F(double v)
            {
                string s = v.ToString("R", CultureInfo.InvariantCulture);
                return decimalComma ? s.Replace('.', ',') : s;
            }
            sb.Append(string.Join(sep, $"row{i}", F(x1), F(x2), i == 3 ? "\"red\"" : colour, label, F(value))).Append('\n');
        }
        string path = _dir[name];
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static JsonElement Metrics(string folder) => JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json"))).RootElement;

    [Fact]
    public void Classification_trains_evaluates_and_predicts_with_the_stored_preprocessing()
    {
        string csv = WriteTable("points.csv");
        string output = _dir["cls"];
        var (code, stdout, err) = Run("train", "--csv", csv, "--target", "label", "--ignore", "id,value", "--epochs", "60", "--output", output, "--seed", "3");
        Assert.True(code == 0, err);
        Assert.Contains("classification of 'label' into 2 classes", stdout, StringComparison.Ordinal);
        Assert.Contains("3 feature columns → 5 inputs", stdout, StringComparison.Ordinal); // x1, x2, three colours
        var m = Metrics(output);
        Assert.Equal("classification", m.GetProperty("task").GetString());
        double accuracy = m.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.9, $"test accuracy {accuracy}");
        Assert.Equal(["hi", "lo"], m.GetProperty("classes").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(40, m.GetProperty("confusion_matrix").EnumerateArray().Sum(r => r.EnumerateArray().Sum(c => c.GetInt64())));
        Assert.True(File.Exists(Path.Combine(output, "confusion_matrix.png")));

        string model = Path.Combine(output, "checkpoints", "best_model.npz");
        (code, stdout, err) = Run("evaluate", "--model", model, "--csv", csv, "--json");
        Assert.True(code == 0, err);
        var e = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(200, e.GetProperty("test_samples").GetInt32());
        Assert.True(e.GetProperty("test_accuracy").GetDouble() >= 0.9);

        string predictions = _dir["pred.csv"];
        (code, _, err) = Run("predict", "--model", model, "--csv", csv, "-o", predictions);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("id,x1,x2,colour,label,value,prediction,p_hi,p_lo", lines[0]);
        Assert.Equal(201, lines.Length);
        int agree = lines.Skip(1).Count(l => l.Split(',')[4] == l.Split(',')[6]);
        Assert.True(agree >= 180, $"{agree} of 200 predictions match the label");
        var p = lines[1].Split(',');
        Assert.Equal(1.0, double.Parse(p[7], CultureInfo.InvariantCulture) + double.Parse(p[8], CultureInfo.InvariantCulture), 4);
    }

    [Fact]
    public void Regression_on_a_semicolon_file_with_decimal_commas_reports_metrics_on_the_original_scale()
    {
        string csv = WriteTable("values.csv", ';', decimalComma: true);
        string output = _dir["reg"];
        var (code, stdout, err) = Run("train", "--csv", csv, "--target", "value", "--ignore", "id,label", "--epochs", "150", "--output", output, "--loss", "huber");
        Assert.True(code == 0, err);
        Assert.Contains("regression of 'value'", stdout, StringComparison.Ordinal);
        var m = Metrics(output);
        Assert.Equal("regression", m.GetProperty("task").GetString());
        double r2 = m.GetProperty("test_r2").GetDouble(), mae = m.GetProperty("test_mae").GetDouble();
        Assert.True(r2 > 0.95, $"test R² {r2}");
        // The target spans about 10 around 100: an MAE under 0.6 is on the original scale, not the standardized one.
        Assert.InRange(mae, 0.0, 0.6);
        Assert.True(m.GetProperty("test_rmse").GetDouble() >= mae);
        Assert.True(File.Exists(Path.Combine(output, "predicted_vs_actual.png")));
        Assert.True(File.Exists(Path.Combine(output, "residuals.png")));

        (code, stdout, err) = Run("evaluate", "--model", Path.Combine(output, "checkpoints", "best_model.npz"), "--csv", csv, "--json");
        Assert.True(code == 0, err);
        var e = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("regression", e.GetProperty("task").GetString());
        Assert.Equal(200, e.GetProperty("test_samples").GetInt32());
        Assert.True(e.GetProperty("test_r2").GetDouble() > 0.95);
        Assert.InRange(e.GetProperty("test_mae").GetDouble(), 0.0, 0.6);

        (code, stdout, err) = Run("predict", "--model", Path.Combine(output, "checkpoints", "best_model.npz"), "--csv", csv);
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(";prediction", lines[0], StringComparison.Ordinal);
        var fields = lines[1].Split(';');
        double actual = double.Parse(fields[5].Replace(',', '.'), CultureInfo.InvariantCulture);
        double predicted = double.Parse(fields[6].Replace(',', '.'), CultureInfo.InvariantCulture);
        Assert.InRange(predicted - actual, -2.0, 2.0);
    }

    [Fact]
    public void Splits_are_seeded_and_stratified()
    {
        int[] labels = Enumerable.Range(0, 100).Select(i => i < 80 ? 0 : 1).ToArray();
        var (train, val, test) = NeuralNet.Cli.Tables.TableSplits.Split(100, labels, 0.2, 0.1, 7, "t.csv");
        Assert.Equal(20, test.Length);
        Assert.Equal(4, test.Count(r => labels[r] == 1)); // 20% of each class
        Assert.Equal(8, val.Length);
        Assert.Empty(train.Intersect(test).Concat(train.Intersect(val)).Concat(val.Intersect(test)));
        Assert.Equal(100, train.Length + val.Length + test.Length);
        Assert.Equal(test, NeuralNet.Cli.Tables.TableSplits.Split(100, labels, 0.2, 0.1, 7, "t.csv").Test);
        Assert.NotEqual(test, NeuralNet.Cli.Tables.TableSplits.Split(100, labels, 0.2, 0.1, 8, "t.csv").Test);
    }

    [Fact]
    public void Quoted_fields_keep_separators_quotes_and_line_breaks()
    {
        string path = _dir["q.csv"];
        File.WriteAllText(path, "name,note,y\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\",1\nplain , x ,2\n");
        var table = NeuralNet.Cli.Tables.CsvTable.Read(path);
        Assert.Equal(["name", "note", "y"], table.Columns);
        Assert.Equal(["Smith, J", "said \"hi\"\nthen left", "1"], table.Rows[0]);
        Assert.Equal(["plain", "x", "2"], table.Rows[1]);
        Assert.Equal([2, 4], table.Lines);
        Assert.Equal('\t', NeuralNet.Cli.Tables.CsvTable.DetectSeparator("a\tb\tc,d"));
        Assert.Equal(';', NeuralNet.Cli.Tables.CsvTable.DetectSeparator("a;b;\"c;d,e,f,g\""));
    }

    public static TheoryData<string, string[], string> BadTables() => new()
    {
        { "a,b,y\n1,2,x\n3,,y\n", [], "bad.csv: row 3, column 'b': missing value ('')" },
        { "a,b,y\n1,2,x\n3,NA,y\n", [], "fill missing values with --fill mean|median|mode" },
        { "a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,oops,x\n", [], "bad.csv: row 6, column 'b': 'oops' is not a number, but the column is numeric" },
        { "a,b,y\n1,2,x\n3,4\n", [], "bad.csv: row 3 has 2 fields, the header has 3" },
        { "a,b,y\n1,2,x\n3,4,x\n", [], "has one class only ('x')" },
        { "a,b,y\n1,2,x\n3,4,y\n", ["--target", "z"], "bad.csv has no such column; its columns are 'a', 'b', 'y'" },
        { "a,b,y\n1,2,x\n3,4,y\n5,6,x\n", [], "3 rows are too few" },
        { "a,b,y\n1,2,x\n3,4,y\n", ["--dataset", "mnist"], "--csv and --dataset exclude each other" },
        { "a,b,y\n1,2,x\n3,4,y\n", ["--task", "regression"], "'x' is not a number, but regression needs a numeric target" },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void Bad_tables_are_refused_in_one_line_naming_the_problem(string text, string[] extra, string expected)
    {
        string path = _dir["bad.csv"];
        File.WriteAllText(path, text);
        string[] args = ["train", "--csv", path, .. extra.Contains("--target") ? Array.Empty<string>() : ["--target", "y"], .. extra, "--output", _dir["bad"], "--epochs", "1"];
        var (code, _, err) = Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Fill_replaces_missing_values_with_training_statistics()
    {
        var sb = new StringBuilder("a,c,y\n");
        var rng = new Rng(2);
        for (int i = 0; i < 60; i++)
        {
            double a = rng.NextDouble(-1, 1);
            sb.Append(i % 7 == 0 ? "NaN" : a.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(i % 5 == 0 ? "" : i % 2 == 0 ? "u" : "v").Append(',').Append(a > 0 ? "p" : "n").Append('\n');
        }
        string path = _dir["gaps.csv"];
        File.WriteAllText(path, sb.ToString());
        var (code, _, err) = Run("train", "--csv", path, "--target", "y", "--fill", "median", "--epochs", "5", "--output", _dir["gaps"], "--no-figures", "--quiet");
        Assert.True(code == 0, err);
        string json = NeuralNet.Checkpoints.Checkpoint.ReadMetadata(Path.Combine(_dir["gaps"], "checkpoints", "best_model.npz"))["preprocessing"];
        var prep = JsonDocument.Parse(json).RootElement;
        Assert.Equal("median", prep.GetProperty("fill_rule").GetString());
        var columns = prep.GetProperty("columns").EnumerateArray().ToArray();
        Assert.Equal("numeric", columns[0].GetProperty("kind").GetString());
        Assert.True(columns[0].GetProperty("fill").ValueKind == JsonValueKind.Number);
        Assert.Equal(["u", "v"], columns[1].GetProperty("categories").EnumerateArray().Select(c => c.GetString()!));
    }
}
