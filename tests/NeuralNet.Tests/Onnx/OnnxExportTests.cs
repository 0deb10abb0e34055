using System.Numerics;
using Microsoft.ML.OnnxRuntime;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Xunit.Abstractions;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// Every layer type exported to ONNX and run by ONNX Runtime, against our forward pass in evaluation mode: max |Δ| ≤
/// 1e-5·max(1, |y|) on random batches of several sizes (the batch dimension is symbolic).
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    private static readonly int[] Batches = [1, 3, 17];

    private void Report(string model, (double Absolute, double Relative) worst) =>
        output.WriteLine($"{model}: max |ONNX Runtime − ours| = {worst.Absolute:E2} (relative to max(1, |y|): {worst.Relative:E2})");

    /// <summary>
    /// Gives every BatchNorm random γ, β and running statistics away from the initial 0 and 1 (within what training
    /// produces: a γ/√var of up to about 2 per layer, so float32 rounding is not amplified beyond what real models see).
    /// </summary>
    private static void Randomize<T>(Module<T> model, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (_, m) in model.Children())
        {
            if (m is not BatchNorm<T> bn) continue;
            for (int c = 0; c < bn.NumFeatures; c++)
            {
                bn.Weight.Value[c] = T.CreateChecked(rng.NextDouble(0.5, 1.5));
                bn.Bias.Value[c] = T.CreateChecked(rng.NextDouble(-0.5, 0.5));
                bn.RunningMean[c] = T.CreateChecked(rng.NextDouble(-0.5, 0.5));
                bn.RunningVar[c] = T.CreateChecked(rng.NextDouble(0.5, 2));
            }
        }
    }

    [Fact]
    public void Mlp()
    {
        var rng = new Rng(1);
        var model = new Sequential<float>(
            new Linear<float>(20, 32, rng: rng), new ReLU<float>(), new Linear<float>(32, 16, rng: rng), new ReLU<float>(),
            new Linear<float>(16, 5, rng: rng));
        Report("MLP 20→32→16→5", OnnxOracle.AssertMatches(model, [20], Batches, seed: 2));
    }

    [Fact]
    public void Mnist_cnn_with_batchnorm_and_dropout_as_nn_train_builds_it()
    {
        var model = NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), seed: 3);
        Randomize(model, new Rng(4));
        Report("CNN (nn train --model cnn)", OnnxOracle.AssertMatches(model, [1, 28, 28], [1, 2, 5], seed: 5, pixels: true));
    }

    [Fact]
    public void Fast_cnn_with_unpadded_5x5_convolutions_as_nn_train_fast_builds_it()
    {
        var model = NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), seed: 6, fast: true);
        Randomize(model, new Rng(7));
        Report("CNN (nn train --model cnn --fast)", OnnxOracle.AssertMatches(model, [1, 28, 28], [1, 2, 5], seed: 8, pixels: true));
    }

    [Fact]
    public void Batchnorm_running_statistics_learned_in_training_mode_are_the_ones_exported()
    {
        var rng = new Rng(9);
        var model = new Sequential<float>(
            new Linear<float>(10, 12, rng: rng), new BatchNorm1d<float>(12, eps: 1e-3, momentum: 0.3), new ReLU<float>(), new Linear<float>(12, 3, rng: rng));
        // Training-mode passes on shifted, scaled data move running_mean and running_var far from 0 and 1.
        for (int i = 0; i < 5; i++) model.Forward(Tensor<float>.RandomNormal(rng, 3, 4, 32, 10));
        var bn = (BatchNorm1d<float>)model[1];
        Assert.True(bn.RunningMean.ToArray().Any(m => Math.Abs(m) > 0.5) && bn.RunningVar.ToArray().Any(v => Math.Abs(v - 1) > 0.5),
            "the running statistics did not move");
        Report("BatchNorm1d (eps 1e-3, trained running stats)", OnnxOracle.AssertMatches(model, [10], Batches, seed: 10, scale: 4));
    }

    [Fact]
    public void Batchnorm1d_over_sequences_normalizes_each_channel_across_its_positions()
    {
        var model = new Sequential<float>(new BatchNorm1d<float>(4, eps: 1e-4), new LeakyReLU<float>(0.1), new Softmax<float>());
        Randomize(model, new Rng(30));
        Report("BatchNorm1d on (N, 4, 6), then softmax over the last axis", OnnxOracle.AssertMatches(model, [4, 6], Batches, seed: 31, scale: 2));
    }

    [Theory]
    [InlineData("ReLU")]
    [InlineData("LeakyReLU")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    public void Each_activation(string name)
    {
        Module<float> activation = name switch
        {
            "ReLU" => new ReLU<float>(),
            "LeakyReLU" => new LeakyReLU<float>(0.2),
            "Sigmoid" => new Sigmoid<float>(),
            _ => new Tanh<float>(),
        };
        var rng = new Rng(11);
        var model = new Sequential<float>(new Linear<float>(8, 16, rng: rng), activation, new Linear<float>(16, 4, rng: rng));
        Report($"Linear–{name}–Linear", OnnxOracle.AssertMatches(model, [8], Batches, seed: 12, scale: 3));
    }

    [Fact]
    public void LeakyReLU_slope_is_exported_as_alpha_including_a_negative_one()
    {
        foreach (double slope in new[] { 0.01, 0.3, -0.5 })
        {
            var model = new Sequential<float>(new LeakyReLU<float>(slope));
            Report($"LeakyReLU({slope})", OnnxOracle.AssertMatches(model, [7], Batches, seed: 13, scale: 5));
        }
    }

    [Fact]
    public void A_model_ending_in_softmax_outputs_probabilities()
    {
        var rng = new Rng(14);
        var model = new Sequential<float>(new Linear<float>(6, 9, rng: rng), new Tanh<float>(), new Linear<float>(9, 5, rng: rng), new Softmax<float>());
        Report("Linear–Tanh–Linear–Softmax", OnnxOracle.AssertMatches(model, [6], Batches, seed: 15, scale: 3));

        var (bytes, _) = OnnxOracle.Export(model, [6]);
        using var session = OnnxOracle.Session(bytes);
        var (p, _) = OnnxOracle.Run(session, Tensor<float>.RandomNormal(rng, 0, 10, 4, 6).ToArray(), [4, 6]);
        for (int r = 0; r < 4; r++) Assert.Equal(1.0, p.Skip(5 * r).Take(5).Sum(v => (double)v), 5);
    }

    [Fact]
    public void Average_and_max_pooling_with_overlapping_and_uneven_windows()
    {
        var rng = new Rng(16);
        var model = new Sequential<float>(
            new Conv2d<float>(2, 4, 3, padding: 1, rng: rng), new AvgPool2d<float>(2),        // 11 → 11 → 5 (floor)
            new Tanh<float>(), new AvgPool2d<float>(3, 1),                                        // 5 → 3, overlapping
            new MaxPool2d<float>(2, 1),                                                           // 3 → 2, overlapping
            new Flatten<float>(), new Linear<float>(4 * 2 * 2, 3, rng: rng));
        Report("Conv–AvgPool 2–AvgPool 3/1–MaxPool 2/1", OnnxOracle.AssertMatches(model, [2, 11, 11], Batches, seed: 17));
    }

    [Fact]
    public void Strided_and_unpadded_convolutions_with_and_without_bias()
    {
        var rng = new Rng(18);
        var model = new Sequential<float>(
            new Conv2d<float>(3, 5, 3, stride: 2, padding: 0, rng: rng),               // 9 → 4
            new ReLU<float>(),
            new Conv2d<float>(5, 6, 2, stride: 1, padding: 1, bias: false, rng: rng),  // 4 → 5
            new BatchNorm2d<float>(6), new Sigmoid<float>(),
            new Conv2d<float>(6, 2, 4, stride: 3, padding: 2, rng: rng),               // 5 → 2 (floor of 5/3, plus 1)
            new Flatten<float>(), new Linear<float>(2 * 2 * 2, 4, bias: false, rng: rng));
        Randomize(model, new Rng(19));
        Report("Conv stride 2 pad 0, stride 1 pad 1 (no bias), stride 3 pad 2", OnnxOracle.AssertMatches(model, [3, 9, 9], Batches, seed: 20));
    }

    [Fact]
    public void Nested_sequentials_are_flattened_and_dropout_adds_no_node()
    {
        var rng = new Rng(21);
        var model = new Sequential<float>(
            new Sequential<float>(new Linear<float>(5, 7, rng: rng), new LeakyReLU<float>(0.1)),
            new Dropout<float>(0.5),
            new Sequential<float>(new Linear<float>(7, 3, rng: rng), new Dropout<float>(0.2)));
        Report("nested Sequential with dropout", OnnxOracle.AssertMatches(model, [5], Batches, seed: 22));
        var (_, result) = OnnxOracle.Export(model, [5]);
        Assert.Equal(3, result.NodeCount); // Gemm, LeakyRelu, Gemm: the last Gemm's output is "logits"

        // With no node to name "logits" (dropout only), an Identity copies the input.
        var dropoutOnly = new Sequential<float>(new Dropout<float>(0.3));
        Report("dropout only (Identity)", OnnxOracle.AssertMatches(dropoutOnly, [2, 3], Batches, seed: 29));
        Assert.Equal(1, OnnxOracle.Export(dropoutOnly, [2, 3]).Result.NodeCount);
    }

    [Fact]
    public void A_float64_model_is_exported_as_float32_and_says_so()
    {
        var rng = new Rng(23);
        var model = new Sequential<double>(
            new Linear<double>(12, 10, rng: rng), new BatchNorm1d<double>(10), new Tanh<double>(),
            new Linear<double>(10, 6, rng: rng), new LeakyReLU<double>(0.05), new Linear<double>(6, 3, rng: rng));
        Randomize(model, new Rng(24));
        Report("float64 MLP with BatchNorm1d (as float32)", OnnxOracle.AssertMatches(model, [12], Batches, seed: 25));

        var (bytes, result) = OnnxOracle.Export(model, [12]);
        Assert.True(result.ConvertedFromFloat64);
        // Each weight is the float nearest the double (round to nearest, not a cut mantissa).
        var graph = ProtoFields.Read(ProtoFields.Read(bytes).Single(f => f.Number == 7).Bytes!);
        byte[] raw = ProtoFields.Read(graph.First(f => f.Number == 5).Bytes!).Single(f => f.Number == 9).Bytes!;
        double[] w = ((Linear<double>)model[0]).Weight.Value.ToArray();
        Assert.Equal(w.Select(v => (float)v), Enumerable.Range(0, w.Length).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i))));
        using var session = OnnxOracle.Session(bytes);
        Assert.Contains("float64 weights rounded to float32", session.ModelMetadata.Description);
        Assert.Equal("float64", session.ModelMetadata.CustomMetadataMap["source_dtype"]);
        Assert.False(OnnxOracle.Export(new Sequential<float>(new Linear<float>(2, 2)), [2]).Result.ConvertedFromFloat64);
    }

    [Fact]
    public void The_graph_has_one_input_and_one_output_with_a_symbolic_batch_and_names_its_producer_and_model()
    {
        var model = NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), seed: 26, fast: true);
        var (bytes, result) = OnnxOracle.Export(model, [1, 28, 28]);
        using var session = OnnxOracle.Session(bytes);

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("input", input.Key);
        Assert.Equal([-1, 1, 28, 28], input.Value.Dimensions);
        Assert.Equal("N", input.Value.SymbolicDimensions[0]);
        Assert.Equal(typeof(float), input.Value.ElementType);
        var logits = Assert.Single(session.OutputMetadata);
        Assert.Equal("logits", logits.Key);
        Assert.Equal([-1, 10], logits.Value.Dimensions);
        Assert.Equal("N", logits.Value.SymbolicDimensions[0]);

        Assert.Equal("NeuralNet", session.ModelMetadata.ProducerName);
        Assert.Equal(Architecture.Summary(model), result.Summary);
        Assert.Equal(result.Summary, session.ModelMetadata.Description);
        Assert.Equal(result.Summary, session.ModelMetadata.GraphDescription);
        Assert.Equal([10], result.OutputShape);

        // ir_version and the opset, read back with the wire-format primitives.
        var fields = ProtoFields.Read(bytes);
        Assert.Equal(8UL, fields.Single(f => f.Number == 1).Varint);
        var opset = ProtoFields.Read(fields.Single(f => f.Number == 8).Bytes!);
        Assert.Equal("", System.Text.Encoding.UTF8.GetString(opset.Single(f => f.Number == 1).Bytes!));
        Assert.Equal(17UL, opset.Single(f => f.Number == 2).Varint);
    }

    [Fact]
    public void Initializers_carry_the_state_dict_names_and_weights_as_little_endian_float32()
    {
        var rng = new Rng(27);
        var model = new Sequential<float>(new Linear<float>(3, 2, rng: rng), new BatchNorm1d<float>(2));
        Randomize(model, rng);
        var (bytes, _) = OnnxOracle.Export(model, [3]);
        var graph = ProtoFields.Read(ProtoFields.Read(bytes).Single(f => f.Number == 7).Bytes!);
        var initializers = graph.Where(f => f.Number == 5).Select(f => ProtoFields.Read(f.Bytes!)).ToList();
        var expected = model.StateDict().ToList();
        Assert.Equal(expected.Select(e => e.Name), initializers.Select(t => System.Text.Encoding.UTF8.GetString(t.Single(f => f.Number == 8).Bytes!)));
        foreach (var ((name, tensor), t) in expected.Zip(initializers))
        {
            Assert.Equal(tensor.Shape.ToArray().Select(d => (ulong)d), t.Where(f => f.Number == 1).Select(f => f.Varint));
            Assert.Equal(1UL, t.Single(f => f.Number == 2).Varint); // FLOAT
            byte[] raw = t.Single(f => f.Number == 9).Bytes!;
            var values = Enumerable.Range(0, raw.Length / 4).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i)));
            Assert.Equal(tensor.ToArray(), values);
        }
    }

    private sealed class Doubler : Module<float>
    {
        public override Tensor<float> Forward(Tensor<float> input) => input;

        public override Tensor<float> Backward(Tensor<float> gradOutput) => gradOutput;
    }

    [Fact]
    public void A_layer_without_an_onnx_form_is_refused_by_index_and_type()
    {
        var top = new Sequential<float>(new Linear<float>(4, 4), new Doubler(), new Linear<float>(4, 2));
        var e = Assert.Throws<NotSupportedException>(() => OnnxOracle.Export(top, [4]));
        Assert.Contains("layer 1 (Doubler)", e.Message);

        var nested = new Sequential<float>(new Linear<float>(4, 4), new ReLU<float>(), new Sequential<float>(new Tanh<float>(), new Doubler()));
        Assert.Contains("layer 2.1 (Doubler)", Assert.Throws<NotSupportedException>(() => OnnxOracle.Export(nested, [4])).Message);
        Assert.Contains("the model (Doubler)", Assert.Throws<NotSupportedException>(() => OnnxOracle.Export(new Doubler(), [4])).Message);
    }

    [Fact]
    public void An_input_shape_that_does_not_fit_names_the_layer_and_both_shapes()
    {
        var mlp = new Sequential<float>(new Linear<float>(784, 10));
        var e = Assert.Throws<ShapeMismatchException>(() => OnnxOracle.Export(mlp, [1, 28, 28]));
        Assert.Contains("layer 0 (Linear) takes (N, 784)", e.Message);
        Assert.Contains("receives (N, 1, 28, 28)", e.Message);

        var cnn = new Sequential<float>(new Conv2d<float>(3, 4, 3), new Flatten<float>(), new Linear<float>(4 * 4 * 4, 2));
        var c = Assert.Throws<ShapeMismatchException>(() => OnnxOracle.Export(cnn, [1, 6, 6]));
        Assert.Contains("layer 0 (Conv2d) takes (N, 3, H, W), but receives (N, 1, 6, 6)", c.Message);
        var l = Assert.Throws<ShapeMismatchException>(() => OnnxOracle.Export(cnn, [3, 7, 7]));
        Assert.Contains("layer 2 (Linear) takes (N, 64), but receives (N, 100)", l.Message);
        Assert.Throws<ArgumentException>(() => OnnxOracle.Export(mlp, [0]));
    }

    [Fact]
    public void Export_to_a_path_writes_the_same_bytes_and_replaces_an_existing_file()
    {
        var model = new Sequential<float>(new Linear<float>(3, 2, rng: new Rng(28)));
        using var dir = new NeuralNet.Tests.Data.TempDir();
        string path = dir["sub/model.onnx"];
        File.WriteAllText(dir["sub.txt"], "");
        NeuralNet.Onnx.Onnx.Export(model, path, [3]);
        File.WriteAllText(path, "old");
        var result = NeuralNet.Onnx.Onnx.Export(model, path, [3]);
        Assert.Equal(OnnxOracle.Export(model, [3]).Bytes, File.ReadAllBytes(path));
        Assert.Equal(new FileInfo(path).Length, result.Bytes);
        Assert.Single(Directory.GetFiles(dir["sub"]));
    }
}
