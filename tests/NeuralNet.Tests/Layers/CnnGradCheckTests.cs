using NeuralNet.Activations;
using NeuralNet.GradCheck;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Check = NeuralNet.GradCheck.GradCheck;

namespace NeuralNet.Tests.Layers;

/// <summary>Central-difference checks in float64 for every CNN layer: relative error &lt; 1e-7 on the input and every parameter.</summary>
public class CnnGradCheckTests
{
    private const double Tolerance = 1e-7;

    private static void AssertPasses(GradCheckReport report, params string[] expected)
    {
        Assert.True(report.Passed(Tolerance), report.ToTable());
        Assert.Equal(["input", .. expected], report.Results.Select(r => r.Name));
    }

    /// <summary>Distinct values 0.01·(a random permutation) plus a little noise: no two differ by less than ~1e-3, so a
    /// ±1e-6 probe never changes a max-pooling arg-max.</summary>
    private static Tensor<double> Distinct(Rng rng, params int[] dims)
    {
        var t = new Tensor<double>(dims);
        var order = Enumerable.Range(0, t.Length).ToArray();
        rng.Shuffle(order.AsSpan());
        for (int i = 0; i < t.Length; i++) t[i] = 0.01 * order[i] - 0.005 * t.Length + 1e-4 * rng.NextDouble();
        return t;
    }

    [Theory]
    // in, out, k, stride, padding, H, W, bias
    [InlineData(2, 3, 3, 1, 0, 6, 5, true)]
    [InlineData(2, 3, 3, 1, 1, 6, 5, true)]
    [InlineData(3, 2, 3, 2, 0, 7, 7, true)]
    [InlineData(3, 2, 3, 2, 1, 7, 6, true)]
    [InlineData(2, 2, 5, 1, 2, 7, 5, true)]
    [InlineData(2, 3, 5, 2, 1, 9, 8, false)]
    [InlineData(1, 2, 5, 3, 0, 11, 8, true)]
    [InlineData(3, 4, 1, 1, 0, 4, 5, true)]   // pointwise: cols is the image itself
    [InlineData(2, 2, 1, 2, 1, 5, 5, false)]  // 1×1 with stride and padding goes through im2col
    public void Conv2d_gradients_match(int cin, int cout, int k, int s, int p, int h, int w, bool bias)
    {
        var rng = new Rng(10);
        var conv = new Conv2d<double>(cin, cout, k, s, p, bias, rng: rng);
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 3, cin, h, w);
        AssertPasses(Check.Check(conv, x, rng), bias ? ["weight", "bias"] : ["weight"]);
    }

    [Fact]
    public void Conv2d_gradients_match_for_a_batch_larger_than_the_chunk_count()
    {
        // 70 samples: chunks of 3, the last one short; the per-chunk dW partials must add up.
        var rng = new Rng(11);
        var conv = new Conv2d<double>(1, 2, 3, 1, 1, rng: rng);
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 70, 1, 3, 3);
        AssertPasses(Check.Check(conv, x, rng), "weight", "bias");
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)] // overlapping windows: one input can receive several gradients
    [InlineData(3, 3)]
    public void MaxPool2d_gradients_match(int k, int s)
    {
        var rng = new Rng(12);
        AssertPasses(Check.Check(new MaxPool2d<double>(k, s), Distinct(rng, 2, 3, 7, 8), rng));
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(3, 1)]
    public void AvgPool2d_gradients_match(int k, int s)
    {
        var rng = new Rng(13);
        AssertPasses(Check.Check(new AvgPool2d<double>(k, s), Tensor<double>.RandomNormal(rng, 0, 1, 2, 3, 7, 8), rng));
    }

    [Fact]
    public void Flatten_gradient_matches()
    {
        var rng = new Rng(14);
        AssertPasses(Check.Check(new Flatten<double>(), Tensor<double>.RandomNormal(rng, 0, 1, 3, 2, 4, 5), rng));
    }

    public static TheoryData<string, bool> BatchNorms() => new()
    {
        { "1d", true }, { "1d", false }, { "1d_length", true }, { "1d_length", false }, { "2d", true }, { "2d", false },
    };

    [Theory]
    [MemberData(nameof(BatchNorms))]
    public void BatchNorm_gradients_match(string kind, bool training)
    {
        var rng = new Rng(15);
        (BatchNorm<double> bn, int[] dims) = kind switch
        {
            "1d" => ((BatchNorm<double>)new BatchNorm1d<double>(4), new[] { 6, 4 }),
            "1d_length" => (new BatchNorm1d<double>(3), new[] { 4, 3, 5 }),
            _ => (new BatchNorm2d<double>(3), new[] { 4, 3, 5, 4 }),
        };
        // Non-trivial γ, β and running statistics, so every term of the derivative is exercised.
        for (int c = 0; c < bn.NumFeatures; c++)
        {
            bn.Weight.Value[c] = 1 + 0.5 * rng.NextNormal();
            bn.Bias.Value[c] = rng.NextNormal();
            bn.RunningMean[c] = rng.NextNormal();
            bn.RunningVar[c] = 0.5 + rng.NextDouble();
        }
        bn.Train(training);
        var x = Tensor<double>.RandomNormal(rng, 2, 3, dims);
        AssertPasses(Check.Check(bn, x, rng), "weight", "bias");
    }

    [Fact]
    public void Dropout_gradient_matches_with_a_frozen_mask()
    {
        var rng = new Rng(16);
        var dropout = new Dropout<double>(0.3, new Rng(17)) { FreezeMask = true };
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 6, 7);
        var report = Check.Check(dropout, x, rng);
        AssertPasses(report);
        Assert.Equal(42, report.Results[0].Count);
    }

    [Fact]
    public void Small_cnn_with_cross_entropy_matches_end_to_end()
    {
        // conv → BN → ReLU → maxpool → flatten → linear, + cross-entropy, training mode. The conv has no bias: BN
        // subtracts the channel mean, so a bias there has an exactly zero gradient (see the next test).
        var rng = new Rng(18);
        var model = new Sequential<double>(
            new Conv2d<double>(2, 3, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d<double>(3), new ReLU<double>(),
            new MaxPool2d<double>(2), new Flatten<double>(), new Linear<double>(3 * 3 * 3, 4, rng: rng));
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 3, 2, 6, 6);
        var report = Check.Check(model, new CrossEntropyLoss<double>(), x, [0, 3, 1]);
        Assert.True(report.Passed(Tolerance), report.ToTable());
        Assert.Equal(["input", "0.weight", "1.weight", "1.bias", "5.weight", "5.bias"], report.Results.Select(r => r.Name));
    }

    [Fact]
    public void A_conv_bias_before_training_mode_batchnorm_gets_no_gradient()
    {
        // y = BN(conv(x) + b): adding b[c] to channel c shifts its batch mean by b[c] and x̂ not at all.
        var rng = new Rng(20);
        var model = new Sequential<double>(new Conv2d<double>(2, 3, 3, rng: rng), new BatchNorm2d<double>(3));
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 4, 2, 5, 5);
        var y = model.Forward(x);
        model.ZeroGrad();
        model.Backward(Tensor<double>.RandomNormal(rng, 0, 1, y.Shape.ToArray()));
        var conv = (Conv2d<double>)model[0];
        Assert.All(conv.Bias!.Grad.ToArray(), g => Assert.True(Math.Abs(g) < 1e-12, $"bias gradient {g}"));
        Assert.Contains(conv.Weight.Grad.ToArray(), g => Math.Abs(g) > 1e-3);
    }

    [Fact]
    public void A_wrong_batchnorm_backward_is_caught()
    {
        // Treating the batch statistics as constants (the eval-mode backward) in training mode is a classic mistake.
        var rng = new Rng(19);
        var bn = new BatchNorm2d<double>(2);
        var report = Check.Check(new EvalBackwardInTraining(bn), Tensor<double>.RandomNormal(rng, 1, 2, 3, 2, 3, 3), rng);
        Assert.False(report.Passed(1e-2), "The check did not notice a wrong backward pass:\n" + report.ToTable());
    }

    /// <summary>Forward in training mode, backward as an affine map (batch statistics treated as constants): wrong.</summary>
    private sealed class EvalBackwardInTraining(BatchNorm2d<double> bn) : Module<double>
    {
        private Tensor<double>? _dx;

        public override Tensor<double> Forward(Tensor<double> input) => bn.Forward(input);

        public override Tensor<double> Backward(Tensor<double> gradOutput)
        {
            _dx = gradOutput.Clone();
            var s = _dx.Span;
            int plane = _dx.Shape[2] * _dx.Shape[3];
            for (int i = 0; i < s.Length; i++) s[i] *= bn.Weight.Value[i / plane % bn.NumFeatures]; // dx = γ·dy: no r, no mean terms
            return _dx;
        }
    }
}
