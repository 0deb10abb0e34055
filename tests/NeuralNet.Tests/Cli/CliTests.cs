using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Cli;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary><c>nn</c> end to end on a tiny, learnable MNIST-shaped data set written by the test.</summary>
[Collection("Console")]
public sealed class CliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Class c is a bright horizontal bar at rows 2c+4 and 2c+5, plus pixel noise: learnable in a few epochs.</summary>
    internal static void WriteBars(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        var rng = new Rng(5);
        void Write(string prefix, int count)
        {
            var pixels = new byte[count * 784];
            var labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                int c = rng.NextInt(10);
                labels[i] = (byte)c;
                for (int p = 0; p < 784; p++)
                {
                    int row = p / 28;
                    int v = (row == 2 * c + 4 || row == 2 * c + 5) ? 200 : 0;
                    pixels[i * 784 + p] = (byte)Math.Clamp(v + rng.NextInt(60), 0, 255);
                }
            }
            Idx.WriteImages(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), pixels, count, 28, 28, gzip: true);
            Idx.WriteLabels(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), labels, gzip: true);
        }
        Write("train", train);
        Write("t10k", test);
    }

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = NeuralNet.Cli.Cli.Run(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        byte[] head = File.ReadAllBytes(path)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
        Assert.True(new FileInfo(path).Length > 2000, $"{path} is suspiciously small");
    }

    [Fact]
    public void Version_names_a_release_version_and_the_instruction_set_in_use()
    {
        var (code, stdout, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^nn \d+\.\d+\.\d+ \((scalar|AVX2\+FMA|256-bit vectors|AVX-512F)\)$", stdout.Trim());
        Assert.Contains(NeuralNet.Tensors.TensorOps.InstructionSetName, stdout);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void The_warm_up_while_the_data_loads_leaves_the_trained_weights_bit_for_bit_the_same(string model)
    {
        WriteBars(_dir["warm/mnist"], train: 300, test: 50);
        byte[] Train(bool warm, string name)
        {
            NeuralNet.Cli.Warmup.Enabled = warm;
            try
            {
                string output = _dir[name];
                var (code, _, err) = Run("train", "--model", model, "--epochs", "2", "--data", _dir["warm"], "--threads", "2",
                    "--output", output, "--quiet", "--no-figures");
                Assert.True(code == 0, err);
                return File.ReadAllBytes(Path.Combine(output, "checkpoints", "best_model.npz"));
            }
            finally
            {
                NeuralNet.Cli.Warmup.Enabled = true;
            }
        }
        Assert.Equal(Train(false, $"cold-{model}"), Train(true, $"warm-{model}"));
    }

    [Fact]
    public void Fast_cnn_trains_the_small_network_with_a_one_cycle_schedule_and_explicit_options_win()
    {
        WriteBars(_dir["data/mnist"], train: 512, test: 128);
        string output = _dir["fast"];
        var (code, _, err) = Run("train", "--model", "cnn", "--fast", "--data", _dir["data"], "--threads", "1", "--output", output, "--quiet", "--no-figures");
        Assert.True(code == 0, err);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))))
        {
            var root = metrics.RootElement;
            Assert.Equal("onecycle", root.GetProperty("schedule").GetString());
            Assert.Equal(2, root.GetProperty("epoch_seconds").GetArrayLength());
            Assert.Equal(80_250, root.GetProperty("parameters").GetInt32());
            Assert.True(root.GetProperty("test_accuracy").GetDouble() > 0.9);
            string checkpoint = Path.Combine(output, "checkpoints", "best_model.npz");
            Assert.Equal(new[] { 1, 28, 28 }, Checkpoint.ReadInputShape(checkpoint));
            Assert.Equal(root.GetProperty("test_accuracy").GetDouble(), double.Parse(Checkpoint.ReadMetadata(checkpoint)["test_accuracy"], CultureInfo.InvariantCulture));
        }

        string explicitOut = _dir["fast-explicit"];
        (code, _, err) = Run("train", "--model", "cnn", "--fast", "--epochs", "1", "--schedule", "none", "--data", _dir["data"], "--threads", "1",
            "--output", explicitOut, "--quiet", "--no-figures");
        Assert.True(code == 0, err);
        using var m2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(explicitOut, "metrics.json")));
        Assert.Equal("none", m2.RootElement.GetProperty("schedule").GetString());
        Assert.Equal(1, m2.RootElement.GetProperty("epoch_seconds").GetArrayLength());
    }

    [Fact]
    public void Train_writes_checkpoint_history_metrics_and_figures_and_evaluate_reproduces_the_accuracy()
    {
        WriteBars(_dir["data/mnist"], train: 600, test: 200);
        string output = _dir["out"];
        var (code, _, err) = Run("train", "--data", _dir["data"], "--epochs", "4", "--batch-size", "32", "--hidden", "32",
            "--threads", "1", "--output", output, "--quiet");
        Assert.True(code == 0, err);

        string model = Path.Combine(output, "checkpoints", "best_model.npz");
        Assert.True(File.Exists(model));
        foreach (string f in new[] { "history.csv", "history.json", "metrics.json" }) Assert.True(File.Exists(Path.Combine(output, f)), f);
        foreach (string f in new[] { "loss_curve.png", "accuracy_curve.png", "confusion_matrix.png", "misclassified.png", "first_layer_weights.png" })
            AssertPng(Path.Combine(output, f));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(output, "history.csv")).Length); // header + 4 epochs

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("mnist", root.GetProperty("dataset").GetString());
        Assert.Equal(42UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal(4, root.GetProperty("epoch_seconds").GetArrayLength());
        double accuracy = root.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy > 0.9, $"test accuracy {accuracy}");

        // The checkpoint records the input shape and, after the run, the test accuracy of its weights (which evaluate
        // reproduces below from the same file: updating the metadata left them alone).
        Assert.Equal(new[] { 784 }, Checkpoint.ReadInputShape(model));
        Assert.Equal(accuracy, double.Parse(Checkpoint.ReadMetadata(model)["test_accuracy"], CultureInfo.InvariantCulture));

        var (evalCode, stdout, evalErr) = Run("evaluate", "--model", model, "--data", _dir["data"], "--json", "--output", _dir["eval"]);
        Assert.True(evalCode == 0, evalErr);
        using var ev = JsonDocument.Parse(stdout.Trim());
        Assert.Equal(accuracy, ev.RootElement.GetProperty("test_accuracy").GetDouble());
        Assert.Equal(root.GetProperty("test_loss").GetDouble(), ev.RootElement.GetProperty("test_loss").GetDouble(), 6);
        Assert.Equal(200, ev.RootElement.GetProperty("n").GetInt32());
        AssertPng(Path.Combine(_dir["eval"], "confusion_matrix.png"));
    }

    /// <summary>
    /// A model from elsewhere as an ONNX file (written here by Onnx.Export from an untrained MLP 784→16→10): nn import,
    /// nn evaluate, then nn train --from fine-tunes it: the network is the file's (not the default --hidden 128,64),
    /// training starts from its weights (a 1e-12 learning rate leaves them where they were) and learns the bars.
    /// </summary>
    [Fact]
    public void Onnx_model_imports_evaluates_and_fine_tunes_with_train_from()
    {
        WriteBars(_dir["data/mnist"], train: 600, test: 200);
        var start = NeuralNet.Cli.ModelFactory.Build("mlp", 784, 10, [16], NeuralNet.Init.Init.HeNormal(), seed: 3);
        NeuralNet.Onnx.Onnx.Export(start, _dir["elsewhere.onnx"], [784]);
        string imported = _dir["imported.npz"];
        var (code, stdout, err) = Run("import", _dir["elsewhere.onnx"], "-o", imported);
        Assert.True(code == 0, err);
        Assert.Contains("ONNX opset 17 written by NeuralNet", stdout);

        (code, stdout, err) = Run("evaluate", "--model", imported, "--data", _dir["data"], "--json", "--output", _dir["eval"]);
        Assert.True(code == 0, err);
        double before;
        using (var doc = JsonDocument.Parse(stdout.Trim())) before = doc.RootElement.GetProperty("test_accuracy").GetDouble();

        (code, _, err) = Run("train", "--from", imported, "--data", _dir["data"], "--epochs", "1", "--optimizer", "sgd", "--lr", "1e-12",
            "--schedule", "none", "--threads", "1", "--output", _dir["still"], "--quiet", "--no-figures");
        Assert.True(code == 0, err);
        var still = Checkpoint.Load<float>(Path.Combine(_dir["still"], "checkpoints", "best_model.npz"));
        foreach (var ((name, a), (_, b)) in start.StateDict().Zip(still.StateDict()))
            TestUtil.AssertClose(a, b, 1e-6, name);

        (code, _, err) = Run("train", "--from", imported, "--data", _dir["data"], "--epochs", "3", "--batch-size", "32",
            "--threads", "1", "--output", _dir["tuned"], "--quiet", "--no-figures");
        Assert.True(code == 0, err);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir["tuned"], "metrics.json")));
        Assert.Equal("MLP 784→16→10 (from imported.npz)", metrics.RootElement.GetProperty("model").GetString());
        double after = metrics.RootElement.GetProperty("test_accuracy").GetDouble();
        Assert.True(after > 0.9 && after > before + 0.3, $"test accuracy {before} → {after}");

        (code, _, err) = Run("train", "--from", imported, "--model", "cnn", "--data", _dir["data"]);
        Assert.Equal(2, code);
        Assert.Contains("--model does not apply with --from", err);
        (code, _, err) = Run("train", "--from", _dir["missing.npz"], "--data", _dir["data"]);
        Assert.Equal(1, code);
        Assert.Contains("--from: checkpoint not found", err);
    }

    [Theory]
    [InlineData(2, "train", "--no-such-option")]
    [InlineData(2, "train", "--epochs", "0")]
    [InlineData(2, "train", "--hidden", "12,x")]
    [InlineData(2, "train", "--optimizer", "adamax")]
    [InlineData(2, "train", "--dataset", "cifar")]
    [InlineData(1, "evaluate", "--model", "/nonexistent/best_model.npz")]
    [InlineData(1, "train", "--data", "/nonexistent/folder")]
    [InlineData(2, "evaluate")]
    public void Bad_options_and_missing_files_give_one_line_errors_and_nonzero_exits(int expected, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(expected, code);
        Assert.StartsWith("error:", err.TrimStart());
    }

    [Fact]
    public void Corrupt_data_files_are_reported_with_the_file_name()
    {
        WriteBars(_dir["bad/mnist"], train: 20, test: 10);
        string images = _dir["bad/mnist/t10k-images-idx3-ubyte.gz"];
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..40]); // cut inside the gzip stream
        var (code, _, err) = Run("evaluate", "--model", WriteAnyModel(), "--data", _dir["bad"], "--json");
        Assert.Equal(1, code);
        Assert.Contains("t10k-images-idx3-ubyte.gz", err);
    }

    [Fact]
    public void A_model_whose_input_does_not_fit_the_data_is_one_line_naming_both_shapes()
    {
        WriteBars(_dir["bars/mnist"], train: 20, test: 10);
        var model = new NeuralNet.Modules.Sequential<float>(new NeuralNet.Layers.Linear<float>(100, 10));
        string path = _dir["small.npz"];
        NeuralNet.Checkpoints.Checkpoint.Save(path, model);
        var (code, _, err) = Run("evaluate", "--model", path, "--data", _dir["bars"], "--json");
        Assert.Equal(1, code);
        Assert.StartsWith("error:", err.TrimStart());
        Assert.Contains("784", err);
        Assert.Contains("100", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    private string WriteAnyModel()
    {
        var model = new NeuralNet.Modules.Sequential<float>(new NeuralNet.Layers.Linear<float>(784, 10));
        string path = _dir["m.npz"];
        NeuralNet.Checkpoints.Checkpoint.Save(path, model);
        return path;
    }

    [Fact]
    public void Gradcheck_prints_the_table_and_passes()
    {
        var (code, stdout, _) = Run("gradcheck");
        Assert.Equal(0, code);
        Assert.Contains("| Linear(in_features=7, out_features=5, bias=True) | weight |", stdout);
        Assert.Contains("All gradients match", stdout);
        Assert.DoesNotContain("FAIL", stdout);
    }
}
