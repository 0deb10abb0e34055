using NeuralNet.Layers;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Layers;

/// <summary>Dropout: identity in evaluation; in training, a fraction p zeroed, the rest scaled so the mean is preserved.</summary>
public class DropoutTests
{
    [Fact]
    public void Eval_mode_is_the_identity_without_a_copy()
    {
        var dropout = new Dropout<float>(0.5, new Rng(1));
        dropout.Eval();
        var x = Tensor<float>.RandomNormal(new Rng(2), 0, 1, 4, 5);
        Assert.Same(x, dropout.Forward(x));
        var dy = Tensor<float>.RandomNormal(new Rng(3), 0, 1, 4, 5);
        Assert.Same(dy, dropout.Backward(dy));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void Training_zeroes_a_fraction_p_and_preserves_the_mean(double p)
    {
        const int n = 200_000;
        var dropout = new Dropout<double>(p, new Rng(4));
        var x = Tensor<double>.Full(2.0, 100, n / 100);
        var y = dropout.Forward(x).ToArray();
        double zeroed = y.Count(v => v == 0) / (double)n;
        // Binomial: std of the fraction is √(p(1−p)/n) ≤ 0.0012; allow 5σ.
        Assert.InRange(zeroed, p - 0.006, p + 0.006);
        Assert.All(y, v => Assert.True(v == 0 || Math.Abs(v - 2 / (1 - p)) < 1e-12, $"{v}"));
        Assert.InRange(y.Average(), 2 * (1 - 0.006 / (1 - p)), 2 * (1 + 0.006 / (1 - p)));
    }

    [Fact]
    public void Backward_applies_the_same_mask()
    {
        var dropout = new Dropout<double>(0.5, new Rng(5));
        var x = Tensor<double>.RandomNormal(new Rng(6), 0, 1, 8, 8);
        var y = dropout.Forward(x);
        var dx = dropout.Backward(Tensor<double>.Ones(8, 8));
        for (int i = 0; i < x.Length; i++) Assert.Equal(y[i], x[i] * dx[i], 14);
    }

    [Fact]
    public void Masks_are_fresh_each_step_reproducible_by_seed_and_frozen_on_request()
    {
        var x = Tensor<float>.Ones(16, 16);
        var a = new Dropout<float>(0.5, new Rng(7));
        var first = a.Forward(x).Clone();
        Assert.False(first.ContentEquals(a.Forward(x)));
        Assert.True(first.ContentEquals(new Dropout<float>(0.5, new Rng(7)).Forward(x)));

        var frozen = new Dropout<float>(0.5, new Rng(8)) { FreezeMask = true };
        var m1 = frozen.Forward(x).Clone();
        Assert.True(m1.ContentEquals(frozen.Forward(x)));
        frozen.FreezeMask = false;
        Assert.False(m1.ContentEquals(frozen.Forward(x)));
    }

    [Fact]
    public void Edge_probabilities()
    {
        var x = Tensor<float>.RandomNormal(new Rng(9), 0, 1, 4, 4);
        Assert.Same(x, new Dropout<float>(0).Forward(x));
        Assert.All(new Dropout<float>(1).Forward(x).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout<float>(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout<float>(1.5));
        Assert.Equal("Dropout(p=0.5, inplace=False)", new Dropout<float>().ToString());
    }

    [Fact]
    public void Switching_from_eval_back_to_training_never_writes_into_the_input()
    {
        var dropout = new Dropout<float>(0.5, new Rng(10));
        var x = Tensor<float>.Ones(8, 8);
        dropout.Eval();
        dropout.Forward(x);
        dropout.Train();
        var y = dropout.Forward(x);
        Assert.NotSame(x, y);
        Assert.All(x.ToArray(), v => Assert.Equal(1f, v));
    }
}
