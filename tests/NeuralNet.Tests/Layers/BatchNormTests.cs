using NeuralNet.Activations;
using NeuralNet.Modules;
using NeuralNet.Layers;
using NeuralNet.Tensors;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Layers;

/// <summary>BatchNorm1d/2d: batch statistics in training, running statistics in evaluation, buffers, errors.</summary>
public class BatchNormTests
{
    [Fact]
    public void Training_output_has_zero_mean_and_unit_variance_per_channel()
    {
        var x = Tensor<double>.RandomNormal(new Rng(1), 5, 3, 8, 4, 3, 3);
        var bn = new BatchNorm2d<double>(4);
        var y = bn.Forward(x);
        for (int c = 0; c < 4; c++)
        {
            var values = Channel(y, c);
            double mean = values.Average(), variance = values.Select(v => (v - mean) * (v - mean)).Average();
            Assert.Equal(0, mean, 12);
            Assert.Equal(1, variance * (1 + 1e-5 / Var(Channel(x, c))), 9); // biased variance, ε in the denominator
        }
    }

    [Fact]
    public void Running_statistics_follow_pytorchs_update_with_the_unbiased_variance()
    {
        var x = Tensor<double>.RandomNormal(new Rng(2), 1, 2, 6, 3);
        var bn = new BatchNorm1d<double>(3, momentum: 0.25);
        bn.Forward(x);
        bn.Forward(x);
        for (int c = 0; c < 3; c++)
        {
            var v = Channel(x, c);
            double mean = v.Average(), unbiased = Var(v) * v.Length / (v.Length - 1);
            // Two identical steps from (0, 1): r ← 0.75·r + 0.25·stat, twice.
            Assert.Equal(0.4375 * mean, bn.RunningMean[c], 12);
            Assert.Equal(0.5625 * 1 + 0.4375 * unbiased, bn.RunningVar[c], 12);
        }
    }

    [Fact]
    public void Eval_mode_uses_the_running_statistics_and_leaves_them_alone()
    {
        var bn = new BatchNorm2d<double>(2);
        bn.RunningMean[0] = 1; bn.RunningMean[1] = -2;
        bn.RunningVar[0] = 4; bn.RunningVar[1] = 0.25;
        bn.Weight.Value[1] = 3;
        bn.Bias.Value[0] = 0.5;
        bn.Eval();
        var x = Tensor<double>.RandomNormal(new Rng(3), 0, 1, 3, 2, 2, 2);
        var y = bn.Forward(x);
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / 4 % 2;
            double expected = c == 0 ? (x[i] - 1) / Math.Sqrt(4 + 1e-5) + 0.5 : 3 * (x[i] + 2) / Math.Sqrt(0.25 + 1e-5);
            Assert.Equal(expected, y[i], 12);
        }
        Assert.Equal([1.0, -2.0], bn.RunningMean.ToArray());
        Assert.Equal([4.0, 0.25], bn.RunningVar.ToArray());

        // A single sample is fine in evaluation, an error in training (its variance is 0/0).
        Assert.Equal(new Shape(1, 2, 1, 1), bn.Forward(new Tensor<double>(1, 2, 1, 1)).Shape);
        bn.Train();
        var e = Assert.Throws<ShapeMismatchException>(() => bn.Forward(new Tensor<double>(1, 2, 1, 1)));
        Assert.Contains("(1, 2, 1, 1)", e.Message);
    }

    [Fact]
    public void Running_statistics_are_buffers_named_like_pytorch()
    {
        var bn = new BatchNorm2d<float>(5);
        Assert.Equal(["weight", "bias"], bn.NamedParameters().Select(p => p.Name));
        Assert.Equal(["running_mean", "running_var"], bn.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["weight", "bias", "running_mean", "running_var"], bn.StateDict().Select(b => b.Name));
        Assert.All(bn.Weight.Value.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(bn.RunningVar.ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(10, bn.ParameterCount());
    }

    [Fact]
    public void BatchNorm1d_accepts_N_C_L_and_matches_BatchNorm2d_on_the_same_values()
    {
        var x = Tensor<double>.RandomNormal(new Rng(4), 1, 2, 3, 2, 6);
        var bn1 = new BatchNorm1d<double>(2);
        var bn2 = new BatchNorm2d<double>(2);
        AssertClose(bn2.Forward(x.Reshape(3, 2, 2, 3)), bn1.Forward(x), 1e-14);
    }

    [Fact]
    public void Float_statistics_are_accurate_for_large_offsets()
    {
        // Two-pass variance: E[x²] − μ² would cancel catastrophically at mean 1000, std 0.01.
        var x = Tensor<float>.RandomNormal(new Rng(5), 1000, 0.01, 64, 2, 8, 8);
        var bn = new BatchNorm2d<float>(2);
        var y = bn.Forward(x);
        double variance = Var(Channel(x, 0)); // ≈ 1e-4, so ε = 1e-5 matters: E[y²] = σ²/(σ² + ε) ≈ 0.91
        Assert.Equal(variance / (variance + 1e-5), Channel(y, 0).Select(v => v * v).Average(), 3);
        Assert.Equal(0, Channel(y, 0).Average(), 3);
    }

    [Fact]
    public void Shape_errors_name_the_input_and_the_feature_count()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new BatchNorm2d<float>(8).Forward(new Tensor<float>(2, 4, 3, 3)));
        Assert.Contains("(2, 4, 3, 3)", e.Message);
        Assert.Contains("8", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => new BatchNorm1d<float>(8).Forward(new Tensor<float>(2, 8, 3, 3)));
        Assert.Contains("(2, 8, 3, 3)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d<float>(8, eps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d<float>(8, momentum: 1.5));
    }

    [Fact]
    public void ToString_reads_like_pytorch() =>
        Assert.Equal("BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", new BatchNorm2d<float>(32).ToString());

    /// <summary>All values of channel c of an (N, C, …) tensor, as doubles.</summary>
    private static double[] Channel<T>(Tensor<T> t, int c) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int channels = t.Shape[1], s = t.RowLength / channels;
        var values = new List<double>();
        for (int n = 0; n < t.Shape[0]; n++)
            for (int i = 0; i < s; i++) values.Add(double.CreateChecked(t[(n * channels + c) * s + i]));
        return values.ToArray();
    }

    private static double Var(double[] v)
    {
        double mean = v.Average();
        return v.Select(x => (x - mean) * (x - mean)).Average();
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void In_a_Sequential_a_following_ReLU_is_fused_with_the_same_values_and_gradients(bool oneD, bool training)
    {
        // The fused pass (BatchNorm writing max(0, y)) must give exactly the bytes of the two modules run one by one.
        var rng = new Rng(oneD ? 11u : 12u);
        Shape shape = oneD ? new Shape(9, 5) : new Shape(6, 5, 7, 3);
        var x = Tensor<float>.RandomNormal(rng, 0.3, 1.5, shape.ToArray());
        var dy = Tensor<float>.RandomNormal(rng, 0, 1, shape.ToArray());
        BatchNorm<float> Norm() => oneD ? new BatchNorm1d<float>(5) : new BatchNorm2d<float>(5);
        var (fusedNorm, plainNorm) = (Norm(), Norm());
        foreach (var bn in new[] { fusedNorm, plainNorm })
        {
            for (int c = 0; c < 5; c++) (bn.Weight.Value[c], bn.Bias.Value[c]) = (0.5f + c * 0.3f, 0.2f * (c - 2));
            bn.Train(training);
        }
        var fused = new Sequential<float>(fusedNorm, new ReLU<float>());
        fused.Train(training);
        var plainRelu = new ReLU<float>();

        var yFused = fused.Forward(x);
        var yPlain = plainRelu.Forward(plainNorm.Forward(x));
        Assert.Equal(yPlain.ToArray(), yFused.ToArray());
        Assert.Contains(0f, yFused.ToArray()); // the ReLU did cut something
        var dxFused = fused.Backward(dy);
        var dxPlain = plainNorm.Backward(plainRelu.Backward(dy));
        Assert.Equal(dxPlain.ToArray(), dxFused.ToArray());
        Assert.Equal(plainNorm.Weight.Grad.ToArray(), fusedNorm.Weight.Grad.ToArray());
        Assert.Equal(plainNorm.Bias.Grad.ToArray(), fusedNorm.Bias.Grad.ToArray());
        Assert.Equal(plainNorm.RunningMean.ToArray(), fusedNorm.RunningMean.ToArray());
    }

    [Theory]
    [InlineData(2, 2, 8, 6, true)]   // the CNN's 2×2 pooling, even sides
    [InlineData(2, 2, 7, 5, true)]   // odd sides: the last row and column win nothing (gradient 0 there)
    [InlineData(3, 2, 9, 7, true)]   // overlapping windows: an input can win several outputs (dx[a] += dy in order)
    [InlineData(2, 2, 8, 6, false)]
    [InlineData(2, 2, 28, 37, true)] // 18 pooled outputs a row: two 8-wide groups, two one by one, an odd last column
    public void In_a_Sequential_a_max_pooling_after_the_fused_pair_joins_its_backward_with_the_same_bytes(int k, int s, int h, int w, bool training)
    {
        var rng = new Rng((ulong)(k * 100 + h * 10 + w));
        var x = Tensor<float>.RandomNormal(rng, 0.3, 1.5, 4, 5, h, w);
        var (fusedNorm, plainNorm) = (new BatchNorm2d<float>(5), new BatchNorm2d<float>(5));
        foreach (var bn in new[] { fusedNorm, plainNorm })
        {
            for (int c = 0; c < 5; c++) (bn.Weight.Value[c], bn.Bias.Value[c]) = (0.5f + c * 0.3f, 0.2f * (c - 2));
            bn.Train(training);
        }
        var fused = new Sequential<float>(fusedNorm, new ReLU<float>(), new MaxPool2d<float>(k, s));
        fused.Train(training);
        var (plainRelu, plainPool) = (new ReLU<float>(), new MaxPool2d<float>(k, s));

        var yFused = fused.Forward(x);
        var yPlain = plainPool.Forward(plainRelu.Forward(plainNorm.Forward(x)));
        Assert.Equal(yPlain.ToArray(), yFused.ToArray());
        var dy = Tensor<float>.RandomNormal(rng, 0, 1, yFused.Shape.ToArray());
        for (int round = 0; round < 2; round++) // the second round reuses every buffer and accumulates the parameter gradients
        {
            var dxFused = fused.Backward(dy);
            var dxPlain = plainNorm.Backward(plainRelu.Backward(plainPool.Backward(dy)));
            Assert.Equal(dxPlain.ToArray(), dxFused.ToArray());
            Assert.Equal(plainNorm.Weight.Grad.ToArray(), fusedNorm.Weight.Grad.ToArray());
            Assert.Equal(plainNorm.Bias.Grad.ToArray(), fusedNorm.Bias.Grad.ToArray());
        }
        Assert.Contains(fused.Backward(dy).ToArray(), v => v != 0f);
    }

    [Fact]
    public void The_pooled_backward_refuses_a_pooling_that_did_not_read_this_layers_output()
    {
        var rng = new Rng(5);
        var norm = new BatchNorm2d<float>(3);
        var pair = new Sequential<float>(norm, new ReLU<float>());
        pair.Forward(Tensor<float>.RandomNormal(rng, 0, 1, 2, 3, 4, 4));
        var pool = new MaxPool2d<float>(2);
        var dy = Tensor<float>.RandomNormal(rng, 0, 1, 2, 3, 2, 2);
        pool.Forward(Tensor<float>.RandomNormal(rng, 0, 1, 2, 3, 4, 4)); // another tensor of the same shape
        var e = Assert.Throws<InvalidOperationException>(() => norm.BackwardReLUMaxPool(dy, pool));
        Assert.Contains("not this layer's output", e.Message);
    }
}
