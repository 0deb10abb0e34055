using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Checkpoints;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Cli;

/// <summary>nn facing a damaged checkpoint (one line, exit 1) and a model whose outputs are infinite or NaN (reported, not a crash).</summary>
[Collection("Console")]
public sealed class ReliabilityCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ReliabilityCommandTests() => CliTests.WriteBars(_dir["data/mnist"], train: 20, test: 30);

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("m.npz")]
    [InlineData("m.safetensors")]
    public void Evaluate_on_a_checkpoint_with_a_flipped_bit_is_one_line_and_exit_1(string file)
    {
        string path = _dir[file];
        var model = new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(1)));
        var w = ((Linear<float>)model.Modules[0]).Weight.Value.Span;
        for (int i = 0; i < 16; i++) w[i] = 1000.5f + i;
        if (file.EndsWith(".npz", StringComparison.Ordinal)) Checkpoint.Save(path, model);
        else Checkpoint.SaveSafetensors(path, model);
        Assert.Equal(0, CliTests.Run("evaluate", "--model", path, "--data", _dir["data"], "--json", "--output", _dir["eval"]).Code);

        IntegrityTests.FlipWeightBit(path);
        var (code, stdout, err) = CliTests.Run("evaluate", "--model", path, "--data", _dir["data"], "--json", "--output", _dir["eval"]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("error:", line);
        Assert.Contains(path, line);
    }

    // Bias −∞ on class 0: every image of class 0 gets log-probability −∞, so the mean loss is +∞.
    // Bias +∞ on two classes: softmax computes ∞ − ∞ = NaN.
    private string Diverged(bool nan)
    {
        var model = new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(1)));
        var b = ((Linear<float>)model.Modules[0]).Bias!.Value.Span;
        if (nan) b[0] = b[1] = float.PositiveInfinity;
        else b[0] = float.NegativeInfinity;
        string path = _dir[nan ? "nan.npz" : "inf.npz"];
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        return path;
    }

    [Theory]
    [InlineData(false, "Infinity")]
    [InlineData(true, "NaN")]
    public void Evaluate_json_states_a_non_finite_loss(bool nan, string expected)
    {
        var (code, stdout, err) = CliTests.Run("evaluate", "--model", Diverged(nan), "--data", _dir["data"], "--json", "--output", _dir["eval"]);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout.Trim());
        Assert.Equal(expected, doc.RootElement.GetProperty("test_loss").GetString());
        Assert.Equal(30, doc.RootElement.GetProperty("n").GetInt32());

        (code, stdout, err) = CliTests.Run("evaluate", "--model", Diverged(nan), "--data", _dir["data"], "--output", _dir["eval2"]);
        Assert.True(code == 0, err);
        Assert.Contains($"loss {expected}", stdout);
    }

    [Fact]
    public void Predict_json_states_nan_probabilities()
    {
        string png = _dir["one.png"];
        var pixels = new float[784];
        for (int i = 0; i < 784; i++) pixels[i] = (i / 28) is 10 or 11 ? 1f : 0f;
        NeuralNet.Cli.GreyImage.WritePng(png, pixels, 28, 28);
        var (code, stdout, err) = CliTests.Run("predict", "--model", Diverged(nan: true), png, "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout.Trim());
        var p = doc.RootElement.GetProperty("probabilities");
        Assert.Equal(10, p.GetArrayLength());
        Assert.Contains(p.EnumerateArray(), v => v.ValueKind == JsonValueKind.String && v.GetString() == "NaN");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Train_from_a_diverged_model_reports_the_divergence_and_states_the_loss_in_metrics_json(bool nan)
    {
        var (code, stdout, err) = CliTests.Run("train", "--from", Diverged(nan), "--data", _dir["data"], "--epochs", "1", "--threads", "1",
            "--output", _dir["run"], "--quiet");
        Assert.DoesNotContain("Unhandled", err + stdout);
        Assert.DoesNotContain("   at ", err);
        Assert.True(code == 1, err); // a diverged run fails, after writing its report
        Assert.StartsWith($"error: The training loss became {(nan ? "NaN" : "Infinity")} at epoch 0", err.TrimStart());
        // The diverged run still reports: metrics.json states the test loss plainly, and every JSON file parses.
        using (var metrics = JsonDocument.Parse(File.ReadAllText(_dir["run/metrics.json"])))
            Assert.Equal(nan ? "NaN" : "Infinity", metrics.RootElement.GetProperty("test_loss").GetString());
        foreach (string json in Directory.EnumerateFiles(_dir["run"], "*.json", SearchOption.AllDirectories))
            using (JsonDocument.Parse(File.ReadAllText(json))) { }
        Assert.True(File.Exists(_dir["run/history.csv"]));
    }

    [Fact]
    public void Sgd_at_a_huge_learning_rate_stops_with_exit_1_and_writes_no_checkpoint_when_no_epoch_was_finite()
    {
        CliTests.WriteBars(_dir["bars/mnist"], train: 256, test: 64);
        var (code, _, err) = CliTests.Run("train", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3", "--batch-size", "32", "--data", _dir["bars"],
            "--threads", "1", "--output", _dir["huge"], "--quiet", "--no-figures");
        Assert.Equal(1, code);
        Assert.StartsWith("error: The training loss became", err.TrimStart());
        Assert.Contains("no earlier epoch to restore", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(_dir["huge/checkpoints/best_model.npz"]));
        Assert.False(File.Exists(_dir["huge/checkpoints/last.npz"]));
        using var metrics = JsonDocument.Parse(File.ReadAllText(_dir["huge/metrics.json"]));
        Assert.Equal("diverged", metrics.RootElement.GetProperty("stop_reason").GetString());
    }
}
