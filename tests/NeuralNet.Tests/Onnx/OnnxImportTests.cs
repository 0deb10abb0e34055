using System.Globalization;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using Xunit.Abstractions;
using OnnxApi = NeuralNet.Onnx.Onnx;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// ONNX import on files written by PyTorch's exporter and by onnx.helper (tools/golden/make_onnx_fixtures.py): the
/// imported model gives the writer's outputs, exports back to a file ONNX Runtime runs to the same outputs, reimports
/// identically, and fine-tunes.
/// </summary>
public sealed class OnnxImportTests(ITestOutputHelper output)
{
    private const double Tol = 1e-5;

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "Onnx", name);

    /// <summary>Each PyTorch fixture and the layers it must import as.</summary>
    public static TheoryData<string, string> PyTorchFixtures => new()
    {
        { "mlp_opset11", "Linear BatchNorm1d ReLU Linear Tanh Linear Sigmoid Linear LeakyReLU Linear Softmax" },
        { "mlp_opset17", "Linear BatchNorm1d ReLU Linear Tanh Linear Sigmoid Linear LeakyReLU Linear Softmax" },
        { "cnn_bn_opset11", "Conv2d BatchNorm2d ReLU MaxPool2d Conv2d BatchNorm2d ReLU AvgPool2d Flatten Linear ReLU Linear" },
        { "cnn_bn_opset17", "Conv2d BatchNorm2d ReLU MaxPool2d Conv2d BatchNorm2d ReLU AvgPool2d Flatten Linear ReLU Linear" },
        { "cnn_fused_opset17", "Conv2d ReLU MaxPool2d Conv2d ReLU AvgPool2d Flatten Linear ReLU Linear" },
        { "cnn_view_opset11", "Conv2d ReLU MaxPool2d Conv2d ReLU AvgPool2d Flatten Linear ReLU Linear" },
        { "cnn_view_opset13", "Conv2d ReLU MaxPool2d Conv2d ReLU AvgPool2d Flatten Linear ReLU Linear" },
        { "handmade_float_data", "Flatten Linear ReLU Linear" },
    };

    private static string Layers<T>(Sequential<T> model) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        string.Join(" ", model.Modules.Select(m => m.GetType().Name.Split('`')[0]));

    /// <summary>max |expected − actual| / max(1, |expected|) over all elements.</summary>
    private static double MaxRelative<T>(Tensor<T> expected, Tensor<T> actual) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected.ReadOnlySpan[i]), a = double.CreateChecked(actual.ReadOnlySpan[i]);
            worst = Math.Max(worst, Math.Abs(e - a) / Math.Max(1, Math.Abs(e)));
        }
        return worst;
    }

    [Theory]
    [MemberData(nameof(PyTorchFixtures))]
    public void Imported_model_reproduces_the_outputs_of_the_framework_that_wrote_it(string name, string layers)
    {
        var imported = OnnxApi.Import<float>(Fixture(name + ".onnx"));
        using var npz = new NpzReader(Fixture(name + "_io.npz"));
        var x = npz.Get<float>("input");
        var expected = npz.Get<float>("output");

        Assert.Equal(layers, Layers(imported.Model));
        Assert.Equal(x.Shape.ToArray()[1..], imported.InputShape);
        Assert.Equal(expected.Shape.ToArray()[1..], imported.OutputShape);
        var y = imported.Model.Forward(x);
        double diff = NeuralNet.Tests.Golden.StateDictImportTests.MaxAbsDiff(expected, y), relative = MaxRelative(expected, y);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: opset {imported.OpsetVersion}, {imported.NodeCount} nodes from '{imported.Producer}' → {imported.Summary}; max |Δ| {diff:E2} (relative {relative:E2})"));
        Assert.True(relative <= Tol, $"{name}: max |Δ| {diff:E2} relative {relative:E2} > {Tol}");
        // The same layers with fresh weights are far off: the match is the imported weights' doing.
        var fresh = Architecture.Build<float>(Architecture.Describe(imported.Model));
        fresh.Eval();
        Assert.True(MaxRelative(expected, fresh.Forward(x)) > 100 * Tol);
    }

    [Fact]
    public void Float64_graph_with_double_data_imports_as_float64_and_matches_numpy_to_1e12()
    {
        var imported = OnnxApi.Import<double>(Fixture("handmade_double_data.onnx"));
        using var npz = new NpzReader(Fixture("handmade_double_data_io.npz"));
        Assert.Equal("float64", imported.InputType);
        Assert.Equal("Linear Tanh Softmax", Layers(imported.Model));
        double relative = MaxRelative(npz.Get<double>("output"), imported.Model.Forward(npz.Get<double>("input")));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"handmade_double_data: max relative |Δ| {relative:E2}"));
        Assert.True(relative <= 1e-12, $"relative {relative:E2}");
    }

    /// <summary>
    /// ONNX → ours → ONNX: the original file and our export of the imported model give the same outputs in ONNX Runtime
    /// (and ours), and importing our export gives the same layers and the same weights bit for bit, so exporting again
    /// writes the same bytes.
    /// </summary>
    [Theory]
    [InlineData("mlp_opset11")]
    [InlineData("cnn_bn_opset17")]
    [InlineData("cnn_view_opset11")]
    [InlineData("handmade_float_data")]
    public void Onnx_to_ours_to_onnx_gives_the_same_outputs_and_reimports_identically(string name)
    {
        byte[] original = File.ReadAllBytes(Fixture(name + ".onnx"));
        var first = OnnxApi.Import<float>(Fixture(name + ".onnx"));
        using var npz = new NpzReader(Fixture(name + "_io.npz"));
        var x = npz.Get<float>("input");
        long[] shape = x.Shape.ToArray().Select(d => (long)d).ToArray();

        var (exported, result) = OnnxOracle.Export(first.Model, first.InputShape!);
        using var theirs = OnnxOracle.Session(original);
        using var ours = OnnxOracle.Session(exported);
        var a = RunNamed(theirs, first.InputName, first.OutputName, x.ToArray(), shape);
        var (b, bShape) = OnnxOracle.Run(ours, x.ToArray(), shape);
        var y = first.Model.Forward(x).ToArray();
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            Assert.True(Math.Abs(a[i] - b[i]) <= Tol * Math.Max(1, Math.Abs(a[i])), $"element {i}: original {a[i]:R}, our export {b[i]:R}");
            Assert.True(Math.Abs(a[i] - y[i]) <= Tol * Math.Max(1, Math.Abs(a[i])), $"element {i}: original in ONNX Runtime {a[i]:R}, ours {y[i]:R}");
        }
        Assert.Equal(y.Length, a.Length);
        Assert.Equal(x.Shape[0], (int)bShape[0]);

        var second = OnnxApi.Import<float>(new MemoryStream(exported), "export.onnx");
        Assert.Equal(Layers(first.Model), Layers(second.Model));
        Assert.Equal(Architecture.Describe(first.Model).ToJsonString(), Architecture.Describe(second.Model).ToJsonString());
        var s1 = first.Model.StateDict().ToList();
        var s2 = second.Model.StateDict().ToList();
        Assert.Equal(s1.Select(s => s.Name), s2.Select(s => s.Name));
        for (int i = 0; i < s1.Count; i++) Assert.True(s1[i].Tensor.ContentEquals(s2[i].Tensor), $"{s1[i].Name} changed in the round trip");
        Assert.Equal(exported, OnnxOracle.Export(second.Model, second.InputShape!).Bytes);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {original.Length} bytes, {first.NodeCount} nodes → ours {exported.Length} bytes, {result.NodeCount} nodes; max |Δ| original vs our export in ONNX Runtime {worst:E2}"));
    }

    private static float[] RunNamed(Microsoft.ML.OnnxRuntime.InferenceSession session, string input, string outputName, float[] x, long[] shape)
    {
        using var value = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, shape);
        using var options = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var outputs = session.Run(options, [input], [value], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Imported_cnn_with_batchnorm_fine_tunes_and_twenty_sgd_steps_lower_the_loss()
    {
        var model = OnnxApi.Import<float>(Fixture("cnn_bn_opset17.onnx")).Model;
        // A learnable task: class c is a bright band at rows 2c and 2c + 1 of a noisy 12×12 image.
        var rng = new Rng(7);
        var x = Tensor<float>.RandomNormal(rng, 0, 0.5, 32, 1, 12, 12);
        int[] labels = Enumerable.Range(0, 32).Select(_ => rng.NextInt(5)).ToArray();
        for (int n = 0; n < 32; n++)
            for (int col = 0; col < 12; col++) { x[n * 144 + 24 * labels[n] + col] += 2; x[n * 144 + 24 * labels[n] + 12 + col] += 2; }
        var loss = new CrossEntropyLoss<float>();
        double Loss()
        {
            model.Eval();
            return loss.Forward(model.Forward(x), labels);
        }

        double before = Loss();
        var runningMean = ((BatchNorm2d<float>)model[1]).RunningMean.Clone();
        var sgd = new SGD<float>(model.Parameters(), 0.1);
        model.Train();
        for (int step = 0; step < 20; step++)
        {
            sgd.ZeroGrad();
            loss.Forward(model.Forward(x), labels);
            model.Backward(loss.Backward());
            sgd.Step();
        }
        double after = Loss();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cnn_bn_opset17, 20 SGD steps (lr 0.1) on 32 samples: loss {before:F4} → {after:F4}"));
        Assert.True(after < 0.85 * before, $"loss {before} → {after}");
        // Training mode updated the imported running statistics too.
        Assert.False(runningMean.ContentEquals(((BatchNorm2d<float>)model[1]).RunningMean));
    }

    [Fact]
    public void Attribute_floats_are_read_as_the_decimal_the_exporter_had_and_momentum_is_converted()
    {
        var model = OnnxApi.Import<double>(Fixture("mlp_opset17.onnx")).Model;
        var bn = (BatchNorm1d<double>)model[1];
        Assert.Equal(1e-5, bn.Eps);                  // stored as the float 9.99999974737875e-06
        Assert.Equal(0.1, bn.Momentum, 15);           // ONNX momentum 0.9 weighs the running statistic
        Assert.Equal(0.1, ((NeuralNet.Activations.LeakyReLU<double>)model[8]).NegativeSlope);
    }

    [Fact]
    public void Stream_and_path_imports_agree_and_a_stream_error_names_the_stream()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("cnn_bn_opset11.onnx"));
        var a = OnnxApi.Import<float>(Fixture("cnn_bn_opset11.onnx"));
        var b = OnnxApi.Import<float>(new MemoryStream(bytes), "upload.onnx");
        Assert.Equal(a.Summary, b.Summary);
        Assert.True(a.Model.StateDict().Zip(b.Model.StateDict()).All(p => p.First.Tensor.ContentEquals(p.Second.Tensor)));
        var e = Assert.Throws<InvalidDataException>(() => OnnxApi.Import<float>(new MemoryStream(bytes[..^40]), "upload.onnx"));
        Assert.StartsWith("upload.onnx: ModelProto", e.Message);
    }

    [Fact]
    public void Looks_like_onnx_tells_onnx_from_npz_and_safetensors_by_content()
    {
        Assert.True(OnnxApi.LooksLikeOnnx(File.ReadAllBytes(Fixture("mlp_opset11.onnx"))));
        Assert.True(OnnxApi.LooksLikeOnnx(File.ReadAllBytes(Fixture("handmade_float_data.onnx"))));
        Assert.True(OnnxApi.LooksLikeOnnx(OnnxOracle.Export(OnnxApi.Import<float>(Fixture("mlp_opset11.onnx")).Model, [20]).Bytes));
        Assert.False(OnnxApi.LooksLikeOnnx(File.ReadAllBytes(Fixture("mlp_opset11_io.npz"))));
        Assert.False(OnnxApi.LooksLikeOnnx(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "StateDicts", "mlp.safetensors"))));
        // A safetensors header length whose first byte is 0x08 (264 bytes) is still not ONNX.
        Assert.False(OnnxApi.LooksLikeOnnx([0x08, 0x01, 0, 0, 0, 0, 0, 0, (byte)'{']));
    }
}
