using System.Globalization;
using System.Text.Json.Nodes;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Golden;

/// <summary>
/// Real PyTorch models (tools/golden/make_state_dicts.py): their state dicts, as safetensors and as NumPy .npz, load by
/// name into the equivalent NeuralNet networks, which then give PyTorch's eval-mode logits to 1e-5.
/// </summary>
public sealed class StateDictImportTests(ITestOutputHelper output)
{
    private const double Tol = 1e-5;

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "StateDicts", name);

    /// <summary>nn.Sequential(Linear(784, 5), ReLU, Linear(5, 3), ReLU, Linear(3, 10)), built here by hand.</summary>
    private static Sequential<float> Mlp() => new(
        new Linear<float>(784, 5), new ReLU<float>(), new Linear<float>(5, 3), new ReLU<float>(), new Linear<float>(3, 10));

    /// <summary>The CNN from the architecture JSON the script writes beside it.</summary>
    private static Module<float> Cnn() => Architecture.Build<float>(JsonNode.Parse(File.ReadAllText(Fixture("cnn.arch.json")))!);

    internal static double MaxAbsDiff(Tensor<float> expected, Tensor<float> actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs((double)expected.ReadOnlySpan[i] - actual.ReadOnlySpan[i]));
        return max;
    }

    /// <summary>Runs <paramref name="model"/> in eval mode on the fixture's inputs; returns max |Δ| against PyTorch's logits.</summary>
    internal static double CompareLogits(Module<float> model, string io)
    {
        using var npz = new NpzReader(Fixture(io));
        Tensor<float> expected = npz.Get<float>("logits");
        model.Eval();
        return MaxAbsDiff(expected, model.Forward(npz.Get<float>("inputs")));
    }

    [Theory]
    [InlineData("mlp", "mlp.safetensors")]
    [InlineData("mlp", "mlp.npz")]
    [InlineData("cnn", "cnn.safetensors")]
    [InlineData("cnn", "cnn.npz")]
    public void PyTorch_state_dict_gives_pytorchs_logits(string model, string file)
    {
        Module<float> net = model == "mlp" ? Mlp() : Cnn();
        double untrained = CompareLogits(net, model + "_io.npz");
        var skipped = Checkpoint.ImportStateDict(Fixture(file), net);

        double diff = CompareLogits(net, model + "_io.npz");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}: max |Δ| vs PyTorch logits = {diff:E2} (before import: {untrained:E2})"));
        Assert.True(diff <= Tol, $"{file}: max |Δ| {diff} > {Tol}");
        Assert.True(untrained > 100 * Tol, "the fresh network already matched: the test would prove nothing");
        Assert.Equal(model == "cnn" ? new[] { "1.num_batches_tracked", "5.num_batches_tracked" } : [], skipped.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BatchNorm_running_statistics_are_imported_not_left_at_their_start()
    {
        var net = (Sequential<float>)Cnn();
        Checkpoint.ImportStateDict(Fixture("cnn.safetensors"), net);
        using var npz = new NpzReader(Fixture("cnn.npz"));
        foreach (int i in new[] { 1, 5 })
        {
            var bn = (BatchNorm2d<float>)net[i];
            Assert.True(npz.Get<float>($"{i}.running_mean").ContentEquals(bn.RunningMean));
            Assert.True(npz.Get<float>($"{i}.running_var").ContentEquals(bn.RunningVar));
            Assert.True(bn.RunningVar.ToArray().Any(v => Math.Abs(v - 1) > 0.1), "the fixture's running_var is still ≈ 1");
            Assert.True(bn.RunningMean.ToArray().Any(v => Math.Abs(v) > 0.1), "the fixture's running_mean is still ≈ 0");
        }
    }

    [Fact]
    public void A_network_that_differs_from_the_pytorch_one_gets_every_mismatch_listed()
    {
        // Dropout left out, so the last Linear is "11" instead of "12"; the second conv has 5 channels instead of 6.
        var net = new Sequential<float>(
            new Conv2d<float>(1, 4, 3, padding: 1, bias: false), new BatchNorm2d<float>(4), new ReLU<float>(), new MaxPool2d<float>(2),
            new Conv2d<float>(4, 5, 3, padding: 1), new BatchNorm2d<float>(5), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(), new Linear<float>(20, 16), new ReLU<float>(), new Linear<float>(16, 10));
        string m = Assert.Throws<InvalidDataException>(() => Checkpoint.ImportStateDict(Fixture("cnn.safetensors"), net)).Message;
        output.WriteLine(m);
        Assert.Contains("cnn.safetensors: the safetensors state dict does not fit the model (11 mismatches)", m);
        Assert.Contains("'4.weight': the file has (6, 4, 3, 3), the model needs (5, 4, 3, 3)", m);
        foreach (string name in new[] { "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var" })
            Assert.Contains($"'{name}': the file has (6,), the model needs (5,)", m);
        Assert.Contains("'9.weight': the file has (16, 24), the model needs (16, 20)", m);
        Assert.Contains("'11.weight': the model needs (10, 16), the file has no such tensor", m);
        Assert.Contains("'11.bias': the model needs (10,), the file has no such tensor", m);
        Assert.Contains("'12.weight': the file has (10, 16), the model has no such tensor", m);
        Assert.Contains("'12.bias': the file has (10,), the model has no such tensor", m);
        Assert.DoesNotContain("num_batches_tracked", m);
    }
}
