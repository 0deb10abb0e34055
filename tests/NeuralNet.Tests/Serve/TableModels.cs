using System.Globalization;
using System.Text;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using static NeuralNet.Tests.Cli.CliTests;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// Two table models trained once with <c>nn train --csv</c> on 200 rows the fixture writes (x1, x2 numeric in [−1, 1],
/// colour red/green/blue): a classifier of label = "hi" when x1 + x2 + [red] > 0.5, else "lo", and a regression of
/// value = 3·x1 − 2·x2 + 5·[red] + 100 + small noise.
/// </summary>
public sealed class TableModels : IDisposable
{
    private readonly TempDir _dir = new();

    public TableModels()
    {
        var rng = new Rng(1);
        string[] colours = ["red", "green", "blue"];
        var sb = new StringBuilder("id,x1,x2,colour,label,value\n");
        for (int i = 0; i < 200; i++)
        {
            double x1 = rng.NextDouble(-1, 1), x2 = rng.NextDouble(-1, 1);
            string colour = colours[rng.NextInt(3)];
            double red = colour == "red" ? 1 : 0;
            string label = x1 + x2 + red > 0.5 ? "hi" : "lo";
            double value = 3 * x1 - 2 * x2 + 5 * red + 100 + 0.05 * rng.NextNormal();
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"row{i},{x1:R},{x2:R},{colour},{label},{value:R}\n"));
        }
        Csv = _dir["points.csv"];
        File.WriteAllText(Csv, sb.ToString());
        Classifier = Train("cls", "label", "id,value", 60);
        Regressor = Train("reg", "value", "id,label", 150);
    }

    /// <summary>The training table.</summary>
    public string Csv { get; }

    /// <summary>The classifier of label (classes "hi", "lo") from x1, x2 and colour.</summary>
    public string Classifier { get; }

    /// <summary>The regression of value from x1, x2 and colour.</summary>
    public string Regressor { get; }

    /// <summary>A path in the fixture's folder.</summary>
    public string this[string relative] => _dir[relative];

    private string Train(string name, string target, string ignore, int epochs)
    {
        string output = _dir[name];
        var (code, _, err) = Run("train", "--csv", Csv, "--target", target, "--ignore", ignore, "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
            "--output", output, "--seed", "3", "--no-figures", "--quiet");
        if (code != 0) throw new InvalidOperationException($"nn train --csv {Csv} --target {target} failed ({code}): {err}");
        return Path.Combine(output, "checkpoints", "best_model.npz");
    }

    public void Dispose() => _dir.Dispose();
}
