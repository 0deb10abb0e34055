using NeuralNet.Activations;
using NeuralNet.GradCheck;
using NeuralNet.Init;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Check = NeuralNet.GradCheck.GradCheck;

namespace NeuralNet.Tests.GradCheck;

/// <summary>Central-difference checks in float64: every derivative in the library, relative error &lt; 1e-7.</summary>
public class GradCheckTests
{
    private const double Tolerance = 1e-7;

    /// <summary>Inputs with |x| ≥ 0.1, away from ReLU's kink, so a ±1e-6 probe never crosses it.</summary>
    private static Tensor<double> AwayFromZero(Rng rng, params int[] dims)
    {
        var t = Tensor<double>.RandomNormal(rng, 0, 1, dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] += Math.CopySign(0.1, s[i]);
        return t;
    }

    private static void AssertPasses(GradCheckReport report)
    {
        Assert.True(report.Passed(Tolerance), report.ToTable());
        Assert.Contains(report.Results, r => r.Name == "input");
    }

    public static TheoryData<string> Modules() => ["linear", "linear_no_bias", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"];

    private static Module<double> Build(string name, Rng rng) => name switch
    {
        "linear" => new Linear<double>(7, 5, Init.Init.XavierNormal(), rng: rng),
        "linear_no_bias" => new Linear<double>(7, 5, Init.Init.HeNormal(), bias: false, rng: rng),
        "relu" => new ReLU<double>(),
        "leaky_relu" => new LeakyReLU<double>(0.1),
        "sigmoid" => new Sigmoid<double>(),
        "tanh" => new Tanh<double>(),
        "softmax" => new Softmax<double>(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Modules))]
    public void Module_gradients_match_central_differences(string name)
    {
        var rng = new Rng(42);
        var module = Build(name, rng);
        var x = AwayFromZero(rng, 6, 7);
        var report = Check.Check(module, x, rng);
        AssertPasses(report);
        if (name.StartsWith("linear", StringComparison.Ordinal)) Assert.Contains(report.Results, r => r.Name == "weight");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void CrossEntropy_gradient_matches(double smoothing)
    {
        var rng = new Rng(1);
        var logits = Tensor<double>.RandomNormal(rng, 0, 2, 5, 4);
        AssertPasses(Check.Check(null, new CrossEntropyLoss<double>(smoothing), logits, [0, 3, 1, 1, 2]));
    }

    [Fact]
    public void CrossEntropy_soft_target_gradient_matches()
    {
        var rng = new Rng(2);
        var logits = Tensor<double>.RandomNormal(rng, 0, 2, 3, 4);
        var target = Tensor<double>.RandomUniform(rng, 0, 1, 3, 4); // rows need not sum to 1 for the gradient identity
        AssertPasses(Check.Check(null, new CrossEntropyLoss<double>(), logits, target));
    }

    [Fact]
    public void MSE_gradient_matches()
    {
        var rng = new Rng(3);
        AssertPasses(Check.Check(null, new MSELoss<double>(), Tensor<double>.RandomNormal(rng, 0, 1, 4, 3), Tensor<double>.RandomNormal(rng, 0, 1, 4, 3)));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.3)]
    public void Huber_gradient_matches_in_both_regimes(double delta)
    {
        var rng = new Rng(6);
        // Differences of about ±2 fall on both sides of δ; none within the probe's reach of ±δ (the kink of ℓ'').
        var x = Tensor<double>.RandomNormal(rng, 0, 2, 5, 3);
        var t = Tensor<double>.RandomNormal(rng, 0, 1, 5, 3);
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++)
            if (Math.Abs(Math.Abs(xs[i] - t[i / 3, i % 3]) - delta) < 0.05) xs[i] += 0.2;
        AssertPasses(Check.Check(null, new HuberLoss<double>(delta), x, t));
    }

    [Fact]
    public void BCEWithLogits_gradient_matches()
    {
        var rng = new Rng(4);
        var x = Tensor<double>.RandomNormal(rng, 0, 3, 4, 3);
        var t = Tensor<double>.RandomUniform(rng, 0, 1, 4, 3);
        AssertPasses(Check.Check(null, new BCEWithLogitsLoss<double>(), x, t));
    }

    [Fact]
    public void Three_layer_network_with_loss_matches_end_to_end()
    {
        var rng = new Rng(5);
        var model = new Sequential<double>(
            new Linear<double>(6, 8, Init.Init.HeNormal(), rng: rng), new ReLU<double>(),
            new Linear<double>(8, 7, Init.Init.XavierUniform(), rng: rng), new Tanh<double>(),
            new Linear<double>(7, 3, Init.Init.XavierNormal(), rng: rng));
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 5, 6);
        var report = Check.Check(model, new CrossEntropyLoss<double>(), x, [0, 2, 1, 2, 0]);
        Assert.True(report.Passed(Tolerance), report.ToTable());
        Assert.Equal(["input", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], report.Results.Select(r => r.Name));
    }

    [Fact]
    public void A_wrong_derivative_is_caught()
    {
        // A ReLU whose backward forgets the mask passes dy through: the check must flag it.
        var rng = new Rng(6);
        var report = Check.Check(new LeakyReLU<double>(1.0 - 1e-3), AwayFromZero(rng, 4, 5), rng); // nearly identity: passes
        Assert.True(report.Passed(Tolerance), report.ToTable());
        var broken = Check.Check(new BrokenReLU(), AwayFromZero(rng, 4, 5), rng);
        Assert.False(broken.Passed(1e-2), "The check did not notice a wrong backward pass:\n" + broken.ToTable());
    }

    [Fact]
    public void Float32_is_too_coarse_for_a_tight_check_which_is_why_float64_is_used()
    {
        // The same network checked in float32 cannot reach 1e-7: round-off in f(θ ± h) dominates the difference.
        var rng64 = new Rng(7);
        var rng32 = new Rng(7);
        var m64 = new Sequential<double>(new Linear<double>(6, 8, Init.Init.XavierUniform(), rng: rng64), new Tanh<double>(), new Linear<double>(8, 3, Init.Init.XavierUniform(), rng: rng64));
        var m32 = new Sequential<float>(new Linear<float>(6, 8, Init.Init.XavierUniform(), rng: rng32), new Tanh<float>(), new Linear<float>(8, 3, Init.Init.XavierUniform(), rng: rng32));
        var x64 = Tensor<double>.RandomNormal(new Rng(8), 0, 1, 4, 6);
        var x32 = Tensor<float>.RandomNormal(new Rng(8), 0, 1, 4, 6);
        int[] labels = [0, 1, 2, 1];
        var r64 = Check.Check(m64, new CrossEntropyLoss<double>(), x64, labels, h: 1e-6);
        var r32 = Check.Check(m32, new CrossEntropyLoss<float>(), x32, labels, h: 1e-3);
        Assert.True(r64.MaxRelativeError < Tolerance, r64.ToTable());
        Assert.True(r32.MaxRelativeError > 100 * Tolerance, $"float32 unexpectedly reached {r32.MaxRelativeError:E2}");
        Assert.True(r32.MaxRelativeError < 0.05, r32.ToTable()); // still right to a few digits
    }

    private sealed class BrokenReLU : Module<double>
    {
        private readonly ReLU<double> _relu = new();

        public override Tensor<double> Forward(Tensor<double> input) => _relu.Forward(input);

        public override Tensor<double> Backward(Tensor<double> gradOutput) => gradOutput.Clone(); // wrong: ignores the mask
    }
}
