using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using NeuralNet.Tests.Golden;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn import</c> on the PyTorch fixtures (tools/golden/make_state_dicts.py), and <c>nn evaluate</c> on what it writes.</summary>
[Collection("Console")]
public sealed class ImportCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args)
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

    [Fact]
    public void Import_of_the_pytorch_cnn_with_an_architecture_file_gives_pytorchs_logits()
    {
        string output = _dir["models/cnn.npz"];
        var (code, stdout, err) = Run("import", StateDictImportTests.Fixture("cnn.safetensors"), "--arch", StateDictImportTests.Fixture("cnn.arch.json"), "-o", output);
        Assert.True(code == 0, err);
        Assert.Contains("loaded 15 tensors into CNN 1→4→6, 24→16→10", stdout);
        Assert.Contains("skipped (not used here): 1.num_batches_tracked, 5.num_batches_tracked", stdout);

        Assert.Equal("PK"u8.ToArray(), File.ReadAllBytes(output)[..2]);
        var model = Checkpoint.Load<float>(output);
        Assert.True(StateDictImportTests.CompareLogits(model, "cnn_io.npz") <= 1e-5);
        var meta = Checkpoint.ReadMetadata(output);
        Assert.Equal("cnn.safetensors", meta["source"]);
        Assert.Equal("mnist", meta["dataset"]);
    }

    [Fact]
    public void Import_with_arch_mlp_builds_nn_trains_mlp_and_evaluate_reads_either_output_format()
    {
        string st = _dir["mlp.safetensors"], npz = _dir["mlp.npz"];
        var (code, _, err) = Run("import", StateDictImportTests.Fixture("mlp.npz"), "--arch", "mlp", "--hidden", "5,3", "-o", st);
        Assert.True(code == 0, err);
        (code, _, err) = Run("import", StateDictImportTests.Fixture("mlp.safetensors"), "--arch", "mlp", "--hidden", "5,3", "--dataset", "fashion-mnist", "-o", npz);
        Assert.True(code == 0, err);

        Assert.Equal((byte)'{', File.ReadAllBytes(st)[8]);
        Assert.True(StateDictImportTests.CompareLogits(Checkpoint.Load<float>(st), "mlp_io.npz") <= 1e-5);
        Assert.True(StateDictImportTests.CompareLogits(Checkpoint.Load<float>(npz), "mlp_io.npz") <= 1e-5);
        Assert.Equal("fashion-mnist", Checkpoint.ReadMetadata(npz)["dataset"]);

        // nn evaluate takes both, whatever the name says: the safetensors file under a name without an extension.
        WriteRandomMnist(_dir["data/mnist"], 40);
        string renamed = _dir["weights-without-extension"];
        File.Copy(st, renamed);
        var results = new List<string>();
        foreach (string model in new[] { renamed, npz })
        {
            string stdout;
            (code, stdout, err) = Run("evaluate", "--model", model, "--dataset", "mnist", "--data", _dir["data"], "--json", "--threads", "1", "--output", _dir["eval"]);
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal(40, doc.RootElement.GetProperty("n").GetInt32());
            results.Add(stdout.Trim());
        }
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void Import_into_a_network_of_other_sizes_lists_every_mismatch_and_writes_nothing()
    {
        string output = _dir["wrong.npz"];
        var (code, _, err) = Run("import", StateDictImportTests.Fixture("mlp.safetensors"), "--arch", "mlp", "-o", output);
        Assert.Equal(1, code);
        Assert.Contains("mlp.safetensors: the safetensors state dict does not fit the model (5 mismatches)", err);
        Assert.Contains("'0.weight': the file has (5, 784), the model needs (128, 784)", err);
        Assert.Contains("'0.bias': the file has (5,), the model needs (128,)", err);
        Assert.Contains("'2.weight': the file has (3, 5), the model needs (64, 128)", err);
        Assert.Contains("'2.bias': the file has (3,), the model needs (64,)", err);
        Assert.Contains("'4.weight': the file has (10, 3), the model needs (10, 64)", err);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Unknown_architectures_and_missing_files_are_usage_errors()
    {
        string weights = StateDictImportTests.Fixture("mlp.npz");
        var (code, _, err) = Run("import", weights, "--arch", "resnet", "-o", _dir["x.npz"]);
        Assert.Equal(2, code);
        Assert.Contains("--arch 'resnet' is neither a known model (mlp, cnn) nor an existing architecture JSON file", err);

        (code, _, err) = Run("import", weights, "--arch", "mlp", "--fast", "-o", _dir["x.npz"]);
        Assert.Equal(2, code);
        Assert.Contains("--fast applies to --arch cnn only", err);

        (code, _, err) = Run("import", _dir["missing.safetensors"], "--arch", "mlp", "-o", _dir["x.npz"]);
        Assert.Equal(1, code);
        Assert.Contains("weights file not found", err);

        File.WriteAllText(_dir["bad.json"], """{"type":"Sequential","layers":[{"type":"Transformer"}]}""");
        (code, _, err) = Run("import", weights, "--arch", _dir["bad.json"], "-o", _dir["x.npz"]);
        Assert.Equal(1, code);
        Assert.Contains("bad.json: not a usable architecture", err);
        Assert.Contains("Transformer", err);
    }

    [Fact]
    public void Onnx_model_from_pytorch_imports_without_arch_by_content_and_stores_the_graphs_input_shape()
    {
        // Under a name without .onnx: the content decides.
        string onnx = _dir["exported-by-torch"];
        File.Copy(NeuralNet.Tests.Onnx.OnnxImportTests.Fixture("cnn_bn_opset17.onnx"), onnx);
        string output = _dir["models/cnn.npz"];
        var (code, stdout, err) = Run("import", onnx, "-o", output);
        Assert.True(code == 0, err);
        Assert.Contains("ONNX opset 17 written by pytorch 1.13.0, 14 nodes → CNN 1→4→6, 24→10→5: 12 layers, 581 parameters", stdout);
        Assert.Contains("Conv2d → BatchNorm2d → ReLU → MaxPool2d → Conv2d → BatchNorm2d → ReLU → AvgPool2d → Flatten → Linear → ReLU → Linear", stdout);
        Assert.Contains("input 'input' (N, 1, 12, 12) float32 → output 'output' (N, 5)", stdout);

        Assert.Equal([1, 12, 12], Checkpoint.ReadInputShape(output)!);
        var meta = Checkpoint.ReadMetadata(output);
        Assert.Equal("exported-by-torch", meta["source"]);
        Assert.Equal("17", meta["onnx_opset"]);
        var model = Checkpoint.Load<float>(output);
        model.Eval();
        using var io = new NpzReader(NeuralNet.Tests.Onnx.OnnxImportTests.Fixture("cnn_bn_opset17_io.npz"));
        Assert.True(StateDictImportTests.MaxAbsDiff(io.Get<float>("output"), model.Forward(io.Get<float>("input"))) <= 1e-5);
    }

    [Fact]
    public void Onnx_import_refuses_arch_and_names_the_unsupported_node_and_a_state_dict_still_needs_arch()
    {
        string onnx = NeuralNet.Tests.Onnx.OnnxImportTests.Fixture("mlp_opset11.onnx");
        var (code, _, err) = Run("import", onnx, "--arch", "mlp", "-o", _dir["x.npz"]);
        Assert.Equal(2, code);
        Assert.Contains("is an ONNX model, which carries its own architecture: --arch does not apply", err);

        File.WriteAllBytes(_dir["elu.onnx"], new NeuralNet.Tests.Onnx.OnnxTestModel().Input("x", null, 4).Output("y")
            .Node("Elu", "act", ["x"], ["y"]).ToBytes());
        (code, _, err) = Run("import", _dir["elu.onnx"], "-o", _dir["x.npz"]);
        Assert.Equal(1, code);
        Assert.Contains("elu.onnx: node 0 'act' (Elu): operator Elu has no layer here", err);
        Assert.False(File.Exists(_dir["x.npz"]));

        (code, _, err) = Run("import", StateDictImportTests.Fixture("mlp.npz"), "-o", _dir["x.npz"]);
        Assert.Equal(2, code);
        Assert.Contains("mlp.npz is a state_dict (weights only): give the network with --arch mlp|cnn|FILE.json", err);
    }

    // MNIST-shaped files of random pixels and labels: nn evaluate only needs to run on them.
    private static void WriteRandomMnist(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var rng = new Rng(11);
        var pixels = new byte[count * 784];
        var labels = new byte[count];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        for (int i = 0; i < count; i++) labels[i] = (byte)rng.NextInt(10);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            Idx.WriteImages(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), pixels, count, 28, 28, gzip: true);
            Idx.WriteLabels(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), labels, gzip: true);
        }
    }
}
