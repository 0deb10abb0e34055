using System.Text.Json;
using NeuralNet.Tests.Data;
using static NeuralNet.Tests.Cli.CliTests;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn train --model FILE.json</c> and <c>nn summary</c>: an architecture of one's own, checked before training.</summary>
[Collection("Console")]
public sealed class ModelFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Cnn = """
        {"type":"Sequential","layers":[
          {"type":"Conv2d","in_channels":3,"out_channels":8,"kernel_size":3,"padding":1},
          {"type":"ReLU"},
          {"type":"MaxPool2d","kernel_size":2},
          {"type":"Flatten"},
          {"type":"Linear","in_features":512,"out_features":10}]}
        """;

    private string Write(string name, string text)
    {
        string path = _dir[name];
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A table: y = "a" when x1 > x2, else "b".</summary>
    private string Table()
    {
        var rng = new NeuralNet.Tensors.Rng(4);
        var lines = new List<string> { "x1,x2,y" };
        for (int i = 0; i < 120; i++)
        {
            double a = rng.NextDouble(-1, 1), b = rng.NextDouble(-1, 1);
            lines.Add(FormattableString.Invariant($"{a},{b},{(a > b ? "a" : "b")}"));
        }
        return Write("t.csv", string.Join('\n', lines) + "\n");
    }

    [Fact]
    public void Summary_prints_each_layers_output_shape_and_parameters_and_the_total()
    {
        string path = Write("cnn.json", Cnn);
        var (code, stdout, err) = Run("summary", "--model", path, "--input-shape", "3,16,16");
        Assert.True(code == 0, err);
        Assert.Matches(@"0: Conv2d\(3, 8.*\(8, 16, 16\)\s+224", stdout);
        Assert.Matches(@"2: MaxPool2d.*\(8, 8, 8\)\s+0", stdout);
        Assert.Matches(@"4: Linear.*\(10,\)\s+5,130", stdout);
        Assert.Contains("Total params: 5,354", stdout, StringComparison.Ordinal); // 3·8·9 + 8 + 512·10 + 10
    }

    [Fact]
    public void A_shape_mismatch_names_both_layers_and_both_shapes()
    {
        string path = Write("cnn.json", Cnn);
        var (code, _, err) = Run("summary", "--model", path, "--input-shape", "3,32,32");
        Assert.Equal(1, code);
        Assert.Contains("layer 4 (Linear(in_features=512", err, StringComparison.Ordinal);
        Assert.Contains("does not fit layer 3 (Flatten", err, StringComparison.Ordinal);
        Assert.Contains("gives (2048,)", err, StringComparison.Ordinal);
        Assert.Contains("(10, 512)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Training_a_table_on_an_architecture_file_checks_the_shapes_first_and_learns()
    {
        string csv = Table();
        string good = Write("mlp.json", """{"type":"Sequential","layers":[{"type":"Linear","in_features":2,"out_features":16},{"type":"Tanh"},{"type":"Linear","in_features":16,"out_features":2}]}""");
        var (code, stdout, err) = Run("train", "--csv", csv, "--target", "y", "--model", good, "--epochs", "80", "--output", _dir["run"], "--no-figures");
        Assert.True(code == 0, err);
        Assert.Contains("MLP 2→16→2, 82 parameters", stdout, StringComparison.Ordinal);
        double accuracy = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir["run"], "metrics.json"))).RootElement.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.85, $"test accuracy {accuracy}");

        string wrongOut = Write("three.json", """{"type":"Sequential","layers":[{"type":"Linear","in_features":2,"out_features":3}]}""");
        (code, _, err) = Run("train", "--csv", csv, "--target", "y", "--model", wrongOut, "--epochs", "1", "--output", _dir["bad"]);
        Assert.Equal(1, code);
        Assert.Contains("the last layer, 0 (Linear(in_features=2, out_features=3", err, StringComparison.Ordinal);
        Assert.Contains("gives (3,) per sample, but the data needs 2 outputs", err, StringComparison.Ordinal);

        string wrongIn = Write("in.json", """{"type":"Sequential","layers":[{"type":"Linear","in_features":5,"out_features":2}]}""");
        (code, _, err) = Run("train", "--csv", csv, "--target", "y", "--model", wrongIn, "--epochs", "1", "--output", _dir["bad"]);
        Assert.Equal(1, code);
        Assert.Contains("layer 0 (Linear(in_features=5", err, StringComparison.Ordinal);
        Assert.Contains("does not fit the input, (2,)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Mnist_training_builds_a_convolutional_architecture_file_for_images()
    {
        WriteBars(_dir["data/mnist"], train: 300, test: 100);
        string path = Write("conv.json", """
            {"type":"Sequential","layers":[
              {"type":"Conv2d","in_channels":1,"out_channels":4,"kernel_size":3,"padding":1},
              {"type":"ReLU"},
              {"type":"MaxPool2d","kernel_size":4},
              {"type":"Flatten"},
              {"type":"Linear","in_features":196,"out_features":10}]}
            """);
        string output = _dir["mnist-run"];
        var (code, stdout, err) = Run("train", "--model", path, "--data", _dir["data"], "--epochs", "8", "--lr", "0.01", "--output", output, "--no-figures", "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("CNN 1→4, 196→10", stdout, StringComparison.Ordinal);
        Assert.Equal([1, 28, 28], NeuralNet.Checkpoints.Checkpoint.ReadInputShape(Path.Combine(output, "checkpoints", "best_model.npz"))!);
        double accuracy = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.9, $"test accuracy {accuracy}");
    }

    [Theory]
    [InlineData("""{"type":"Sequential","layers":[{"type":"ReLU"},{"type":"Linear","in_features":2}]}""", "layer 1: Linear lacks \"out_features\"")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"Linear","in_features":2,"out_features":"x"}]}""", "layer 0: Linear \"out_features\" must be an integer")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"ReLU"},{"type":"Blur"}]}""", "layer 1: unknown layer type 'Blur'")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"Linear","in_features":2,"out_features":2,"bias":"yes"}]}""", "layer 0 (Linear)")]
    public void Errors_in_an_architecture_file_name_the_layer_index_and_the_field(string json, string expected)
    {
        string path = Write("m.json", json);
        var (code, _, err) = Run("summary", "--model", path, "--input-shape", "2");
        Assert.Equal(1, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }
}
