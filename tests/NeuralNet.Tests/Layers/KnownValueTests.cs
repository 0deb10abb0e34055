using NeuralNet.Training;
using NeuralNet.Data;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Layers;

/// <summary>Values worked out by hand, and the numerical edge cases.</summary>
public class KnownValueTests
{
    [Fact]
    public void Tiny_network_gives_the_hand_computed_output_and_gradients()
    {
        // x = [1, 2]; h = ReLU(W1·x + b1), W1 = [[1, -1], [0.5, 0.5]], b1 = [0, -1]  → pre = [-1, 0.5], h = [0, 0.5]
        // y = W2·h + b2, W2 = [[2, 3]], b2 = [1]  → y = 2·0 + 3·0.5 + 1 = 2.5
        // L = MSE(y, t=[0.5]) = (2.5 − 0.5)² = 4;  dL/dy = 2·2 = 4
        // dW2 = dy·hᵀ = [[0, 2]]; db2 = [4]; dh = W2ᵀ·dy = [8, 12]; dpre = dh ⊙ [pre > 0] = [0, 12]
        // dW1 = dpre·xᵀ = [[0, 0], [12, 24]]; db1 = [0, 12]; dx = W1ᵀ·dpre = [0·1 + 12·0.5, 0·(−1) + 12·0.5] = [6, 6]
        var l1 = new Linear<double>(2, 2);
        var l2 = new Linear<double>(2, 1);
        Tensor<double>.FromArray([1, -1, 0.5, 0.5], 2, 2).CopyTo(l1.Weight.Value);
        Tensor<double>.FromArray([0, -1], 2).CopyTo(l1.Bias!.Value);
        Tensor<double>.FromArray([2, 3], 1, 2).CopyTo(l2.Weight.Value);
        Tensor<double>.FromArray([1], 1).CopyTo(l2.Bias!.Value);
        var model = new Sequential<double>(l1, new ReLU<double>(), l2);
        var loss = new MSELoss<double>();

        var y = model.Forward(Tensor<double>.FromArray([1, 2], 1, 2));
        Assert.Equal(2.5, y[0]);
        Assert.Equal(4.0, loss.Forward(y, Tensor<double>.FromArray([0.5], 1, 1)));
        model.ZeroGrad();
        var dx = model.Backward(loss.Backward());
        Assert.Equal([6.0, 6.0], dx.ToArray());
        Assert.Equal([0.0, 2.0], l2.Weight.Grad.ToArray());
        Assert.Equal([4.0], l2.Bias.Grad.ToArray());
        Assert.Equal([0.0, 0.0, 12.0, 24.0], l1.Weight.Grad.ToArray());
        Assert.Equal([0.0, 12.0], l1.Bias.Grad.ToArray());
    }

    [Fact]
    public void Gradients_accumulate_until_ZeroGrad()
    {
        var layer = new Linear<double>(3, 2, NeuralNet.Init.Init.XavierUniform(), rng: new Rng(1));
        var x = Tensor<double>.RandomNormal(new Rng(2), 0, 1, 4, 3);
        var dy = Tensor<double>.RandomNormal(new Rng(3), 0, 1, 4, 2);
        layer.Forward(x);
        layer.Backward(dy);
        var once = layer.Weight.Grad.Clone();
        layer.Forward(x);
        layer.Backward(dy);
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], layer.Weight.Grad[i], 12);
        layer.ZeroGrad();
        Assert.All(layer.Weight.Grad.ToArray(), g => Assert.Equal(0.0, g));
    }

    [Theory]
    [InlineData(1000.0)]
    [InlineData(-1000.0)]
    public void Softmax_and_cross_entropy_stay_finite_for_huge_logits(double scale)
    {
        var logits = Tensor<double>.FromArray([scale, 0, -scale, scale - 1], 1, 4);
        var sm = new Softmax<double>().Forward(logits);
        Assert.All(sm.ToArray(), p => Assert.True(double.IsFinite(p) && p >= 0 && p <= 1));
        AssertClose(1.0, sm.ToArray().Sum(), 1e-15);

        var loss = new CrossEntropyLoss<double>();
        // Label 2 is 2000 below the max when scale = 1000: loss ≈ 2000 + log(1 + e⁻¹), finite.
        double value = loss.Forward(logits, [2]);
        double m = Math.Max(scale, 0);
        double expected = m + Math.Log(Math.Exp(scale - m) + Math.Exp(-m) + Math.Exp(-scale - m) + Math.Exp(scale - 1 - m)) + scale;
        AssertClose(expected, value, 1e-12, "loss");
        Assert.All(loss.Backward().ToArray(), g => Assert.True(double.IsFinite(g)));

        var lossF = new CrossEntropyLoss<float>();
        float valueF = lossF.Forward(Tensor<float>.FromArray([(float)scale, 0, (float)-scale, (float)scale - 1], 1, 4), [0]);
        Assert.True(float.IsFinite(valueF));
        Assert.All(lossF.Backward().ToArray(), g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Huber_is_half_the_square_inside_delta_and_linear_outside()
    {
        var loss = new HuberLoss<double>(1.0);
        // d = [0.5, −3]: ℓ = [½·0.25, 1·(3 − ½)] = [0.125, 2.5]; L = 2.625/2
        double l = loss.Forward(Tensor<double>.FromArray([1.5, -1], 1, 2), Tensor<double>.FromArray([1, 2], 1, 2));
        Assert.Equal(1.3125, l, 12);
        // ∂L/∂x = clamp(d, −1, 1)/2 = [0.25, −0.5]
        Assert.Equal([0.25, -0.5], loss.Backward().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new HuberLoss<double>(0));
    }

    [Fact]
    public void Mae_and_r2_match_hand_computed_values()
    {
        // t = [1, 2, 3, 4], y = [1, 2, 4, 2]: MAE = (0 + 0 + 1 + 2)/4; SSE = 5, SST = 5, R² = 0
        var x = Tensor<double>.Zeros(4, 1);
        var data = new Dataset<double>(x, Tensor<double>.FromArray([1, 2, 3, 4], 4, 1));
        var y = Tensor<double>.FromArray([1, 2, 4, 2], 4, 1);
        var batch = new DataLoader<double>(data, 4, shuffle: false).GetBatch(0);
        var mae = new MeanAbsoluteError<double>();
        var r2 = new R2Score<double>();
        mae.Update(y, batch);
        r2.Update(y, batch);
        Assert.Equal(0.75, mae.Value, 12);
        Assert.Equal(0.0, r2.Value, 12);
        r2.Reset();
        r2.Update(data.Targets!, batch);
        Assert.Equal(1.0, r2.Value, 12);
    }

    [Fact]
    public void BCEWithLogits_is_finite_for_large_logits()
    {
        var loss = new BCEWithLogitsLoss<double>();
        double v = loss.Forward(Tensor<double>.FromArray([1000, -1000], 1, 2), Tensor<double>.FromArray([0, 1], 1, 2));
        AssertClose(1000.0, v, 1e-12); // each term ≈ 1000, mean 1000
        Assert.Equal([0.5, -0.5], loss.Backward().ToArray());
    }

    [Fact]
    public void Linear_shape_mismatch_names_both_shapes()
    {
        var layer = new Linear<float>(784, 10);
        var e = Assert.Throws<ShapeMismatchException>(() => layer.Forward(new Tensor<float>(32, 100)));
        Assert.Contains("(32, 100)", e.Message);
        Assert.Contains("(10, 784)", e.Message);
    }

    [Fact]
    public void CrossEntropy_rejects_bad_labels_naming_them()
    {
        var loss = new CrossEntropyLoss<float>();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Forward(new Tensor<float>(2, 3), [0, 3]));
        Assert.Contains("label 3 at row 1", e.Message);
        var e2 = Assert.Throws<ShapeMismatchException>(() => loss.Forward(new Tensor<float>(2, 3), [0]));
        Assert.Contains("(2, 3)", e2.Message);
    }

    [Fact]
    public void Backward_gradient_shape_is_checked()
    {
        var relu = new ReLU<float>();
        relu.Forward(new Tensor<float>(2, 3));
        var e = Assert.Throws<ShapeMismatchException>(() => relu.Backward(new Tensor<float>(3, 2)));
        Assert.Contains("(3, 2)", e.Message);
        Assert.Contains("(2, 3)", e.Message);
    }

    [Fact]
    public void Sequential_names_parameters_by_position_and_switches_mode()
    {
        var model = new Sequential<float>(new Linear<float>(4, 3), new ReLU<float>(), new Linear<float>(3, 2));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.NamedParameters().Select(p => p.Name));
        Assert.Equal(4 * 3 + 3 + 3 * 2 + 2, model.ParameterCount());
        model.Eval();
        Assert.False(model[0].IsTraining);
        model.Train();
        Assert.True(model[2].IsTraining);
    }
}

public class UnrequestedGradientTests
{
    [Fact]
    public void A_first_layer_skips_dx_but_keeps_the_same_weight_gradients()
    {
        var x = Tensor<double>.RandomNormal(new Rng(1), 0, 1, 4, 6);
        var dy = Tensor<double>.RandomNormal(new Rng(2), 0, 1, 4, 3);
        var full = new Linear<double>(6, 3, rng: new Rng(3));
        var skip = new Linear<double>(6, 3, rng: new Rng(3)) { ComputeInputGradient = false };
        full.Forward(x);
        var dxFull = full.Backward(dy);
        for (int step = 0; step < 2; step++) // the zero dx stays zero across steps
        {
            skip.Forward(x);
            var dxSkip = skip.Backward(dy);
            Assert.All(dxSkip.ToArray(), v => Assert.Equal(0.0, v));
        }
        Assert.Contains(dxFull.ToArray(), v => v != 0);
        for (int i = 0; i < full.Weight.Grad.Length; i++) Assert.Equal(2 * full.Weight.Grad[i], skip.Weight.Grad[i], 12);
    }
}
