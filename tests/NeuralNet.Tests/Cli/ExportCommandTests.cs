using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using NeuralNet.Tests.Onnx;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn export</c>: ONNX that ONNX Runtime runs, a weights-only .npz, where the input shape comes from, and its errors.</summary>
[Collection("Console")]
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Sequential<float> Mlp() => new(
        new Linear<float>(784, 32, InitFns.HeNormal(), rng: new Rng(1)), new ReLU<float>(), new Linear<float>(32, 10, rng: new Rng(2)));

    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    [Fact]
    public void Onnx_export_of_a_checkpoint_runs_in_onnx_runtime_as_our_forward_pass_and_reports_one_line()
    {
        var model = Mlp();
        string checkpoint = _dir["best_model.npz"], onnx = _dir["out/model.onnx"];
        Checkpoint.Save(checkpoint, model, new Adam<float>(model.Parameters()), metadata: new Dictionary<string, string> { ["dataset"] = "mnist" }, inputShape: [784]);

        var (code, stdout, err) = Run("export", checkpoint, "--format", "onnx", "-o", onnx);
        Assert.True(code == 0, err);
        string line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"wrote {onnx} (onnx, {new FileInfo(onnx).Length:N0} bytes, input (N, 784) → logits (N, 10), opset 17, float32)", line.Trim());

        using var session = OnnxOracle.Session(File.ReadAllBytes(onnx));
        var x = Tensor<float>.RandomUniform(new Rng(3), 0, 1, 4, 784);
        var (theirs, shape) = OnnxOracle.Run(session, x.ToArray(), [4, 784]);
        Assert.Equal([4L, 10L], shape);
        model.Eval();
        TestUtil.AssertClose(model.Forward(x), Tensor<float>.FromArray(theirs, 4, 10), OnnxOracle.Tolerance, "ONNX Runtime vs ours");
    }

    [Fact]
    public void Npz_export_keeps_weights_architecture_input_shape_and_metadata_but_not_the_optimizer()
    {
        var model = Mlp();
        string checkpoint = _dir["best_model.npz"], npz = _dir["weights.npz"];
        Checkpoint.Save(checkpoint, model, new Adam<float>(model.Parameters()), new TrainingState(2, 42, 1e-3),
            new Dictionary<string, string> { ["dataset"] = "mnist", ["test_accuracy"] = "0.97" }, inputShape: [784]);

        var (code, stdout, err) = Run("export", checkpoint, "--format", "npz", "--output", npz);
        Assert.True(code == 0, err);
        Assert.StartsWith($"wrote {npz} (npz, {new FileInfo(npz).Length:N0} bytes, input (N, 784), float32 weights", stdout.Trim());

        var loaded = Checkpoint.Load<float>(npz);
        Assert.Equal(model.Parameters().SelectMany(p => p.Value.ToArray()), loaded.Parameters().SelectMany(p => p.Value.ToArray()));
        Assert.Equal(new[] { 784 }, Checkpoint.ReadInputShape(npz));
        Assert.Equal("0.97", Checkpoint.ReadMetadata(npz)["test_accuracy"]);
        Assert.Null(Checkpoint.ReadTrainingState(npz));
        using var reader = new NpzReader(npz);
        Assert.Null(reader.GetText("optimizer.json"));
        Assert.DoesNotContain(reader.Names, n => n.StartsWith("optimizer", StringComparison.Ordinal));
    }

    [Fact]
    public void Safetensors_export_has_the_state_dict_names_the_architecture_and_loads_back_as_the_same_model()
    {
        var model = Mlp();
        string checkpoint = _dir["st/best_model.npz"], st = _dir["st/model.safetensors"];
        Checkpoint.Save(checkpoint, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" }, inputShape: [784]);

        var (code, stdout, err) = Run("export", checkpoint, "--format", "safetensors", "-o", st);
        Assert.True(code == 0, err);
        Assert.StartsWith($"wrote {st} (safetensors, {new FileInfo(st).Length:N0} bytes, input (N, 784)", stdout.Trim());
        using (var reader = new SafetensorsReader(st))
            Assert.Equal(model.StateDict().Select(e => e.Name).Order(StringComparer.Ordinal), reader.Names.Order(StringComparer.Ordinal));
        var loaded = Checkpoint.Load<float>(st);
        Assert.Equal(model.Parameters().SelectMany(p => p.Value.ToArray()), loaded.Parameters().SelectMany(p => p.Value.ToArray()));
        Assert.Equal(new[] { 784 }, Checkpoint.ReadInputShape(st));
        Assert.Equal("mnist", Checkpoint.ReadMetadata(st)["dataset"]);
    }

    [Fact]
    public void Without_a_stored_shape_a_linear_first_layer_gives_it_and_a_convolution_needs_the_option()
    {
        string mlp = _dir["mlp.npz"];
        Checkpoint.Save(mlp, Mlp());
        var (code, stdout, err) = Run("export", mlp, "--format", "onnx", "-o", _dir["mlp.onnx"]);
        Assert.True(code == 0, err);
        Assert.Contains("input (N, 784) → logits (N, 10)", stdout);

        string cnn = _dir["cnn.npz"];
        Checkpoint.Save(cnn, NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), seed: 4, fast: true));
        (code, _, err) = Run("export", cnn, "--format", "onnx", "-o", _dir["cnn.onnx"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err.TrimStart());
        Assert.Contains("stores no input shape", err);
        Assert.Contains("--input-shape", err);
        Assert.False(File.Exists(_dir["cnn.onnx"]));

        (code, stdout, err) = Run("export", cnn, "--format", "onnx", "-o", _dir["cnn.onnx"], "--input-shape", "1,28,28");
        Assert.True(code == 0, err);
        Assert.Contains("input (N, 1, 28, 28) → logits (N, 10)", stdout);

        (code, _, err) = Run("export", cnn, "--format", "onnx", "-o", _dir["cnn20.onnx"], "--input-shape", "1,20,20");
        Assert.Equal(1, code);
        Assert.Contains("layer 9 (Linear) takes (N, 512), but receives (N, 128)", err);
    }

    [Fact]
    public void A_float64_checkpoint_is_exported_as_float32_and_the_line_says_so()
    {
        string path = _dir["double.npz"];
        Checkpoint.Save(path, new Sequential<double>(new Linear<double>(5, 3, rng: new Rng(5)), new Tanh<double>()), inputShape: [5]);
        var (code, stdout, err) = Run("export", path, "--format", "onnx", "-o", _dir["double.onnx"]);
        Assert.True(code == 0, err);
        Assert.Contains("float64 weights converted to float32", stdout);
        (code, stdout, err) = Run("export", path, "--format", "npz", "-o", _dir["double-out.npz"]);
        Assert.True(code == 0, err);
        Assert.Contains("float64 weights", stdout);
        Assert.Equal("float64", Checkpoint.ReadDType(_dir["double-out.npz"]));
    }

    [Theory]
    [InlineData(2, "--format", "onnx")]                                   // no -o
    [InlineData(2, "-o", "OUT")]                                           // no --format
    [InlineData(2, "--format", "tflite", "-o", "OUT")]
    [InlineData(2, "--format", "onnx", "-o", "OUT", "--input-shape", "1,x")]
    [InlineData(2, "--format", "onnx", "-o", "OUT", "--input-shape", "0,28,28")]
    public void Missing_and_bad_options_give_one_line_errors(int expected, params string[] options)
    {
        string model = _dir["m.npz"];
        Checkpoint.Save(model, Mlp(), inputShape: [784]);
        var (code, _, err) = Run(["export", model, .. options.Select(o => o == "OUT" ? _dir["out.onnx"] : o)]);
        Assert.Equal(expected, code);
        Assert.StartsWith("error:", err.TrimStart());
        Assert.False(File.Exists(_dir["out.onnx"]));
        if (options.Contains("tflite")) Assert.Contains("known: onnx, safetensors, npz", err);
    }

    [Fact]
    public void A_missing_model_file_or_argument_is_an_error()
    {
        var (code, _, err) = Run("export", _dir["nope.npz"], "--format", "onnx", "-o", _dir["x.onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("nope.npz", err);
        (code, _, err) = Run("export", "--format", "onnx", "-o", _dir["x.onnx"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err.TrimStart());
    }
}
