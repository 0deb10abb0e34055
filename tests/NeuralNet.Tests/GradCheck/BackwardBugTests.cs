using NeuralNet.Activations;
using NeuralNet.GradCheck;
using NeuralNet.GradCheck.Bugs;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Check = NeuralNet.GradCheck.GradCheck;

namespace NeuralNet.Tests.GradCheck;

/// <summary>
/// The deliberately wrong backward passes: each fails the gradient check by far more than round-off, on the tensors
/// its mistake touches and only there, while the same layer without the bug passes.
/// </summary>
public class BackwardBugTests
{
    private const double Tolerance = 1e-7;
    private const double WideMargin = 1e-3;

    public static TheoryData<string> Bugs()
    {
        var data = new TheoryData<string>();
        foreach (var b in BackwardBug.All) data.Add(b.Name);
        return data;
    }

    private static Tensor<double> AwayFromZero(Rng rng, params int[] dims)
    {
        var t = Tensor<double>.RandomNormal(rng, 0, 1, dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] += Math.CopySign(0.1, s[i]);
        return t;
    }

    /// <summary>The smallest check that contains <paramref name="bug"/>'s layer, correct (bug null) or with the bug; same seed either way.</summary>
    private static GradCheckReport CheckLayer(string bugName, BackwardBug? bug)
    {
        var rng = new Rng(11);
        Module<double> B(Module<double> m) => bug?.Apply(m) ?? m;
        return bugName switch
        {
            BackwardBug.NoBiasGradient => Check.Check(B(new Linear<double>(7, 5, Init.Init.XavierNormal(), rng: rng)), AwayFromZero(rng, 6, 7), rng),
            BackwardBug.WeightGradientFromOutput => Check.Check(B(new Linear<double>(6, 6, Init.Init.XavierNormal(), rng: rng)), AwayFromZero(rng, 4, 6), rng),
            BackwardBug.SoftmaxDiagonal => Check.Check(B(new Softmax<double>()), AwayFromZero(rng, 6, 7), rng),
            BackwardBug.ReluMaskFromGradient => Check.Check(B(new ReLU<double>()), AwayFromZero(rng, 6, 7), rng),
            BackwardBug.SigmoidDerivativeOfOutput => Check.Check(B(new Sigmoid<double>()), Tensor<double>.RandomNormal(rng, 0, 2, 6, 7), rng),
            BackwardBug.BatchNormConstantStatistics => Check.Check(B(new BatchNorm1d<double>(4)), AwayFromZero(rng, 8, 4), rng),
            BackwardBug.CrossEntropyNotAveraged => Check.Check(null, bug?.Apply(new CrossEntropyLoss<double>()) ?? new CrossEntropyLoss<double>(),
                Tensor<double>.RandomNormal(rng, 0, 2, 6, 5), [0, 4, 2, 2, 1, 3]),
            _ => throw new ArgumentException($"no check for bug '{bugName}'"),
        };
    }

    /// <summary>The tensors each mistake makes wrong; every other tensor of the check must still pass.</summary>
    private static string[] WrongTensors(string bugName) => bugName switch
    {
        BackwardBug.NoBiasGradient => ["bias"],
        BackwardBug.WeightGradientFromOutput => ["weight"],
        _ => ["input"],
    };

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Every_bug_fails_the_check_by_a_wide_margin_and_the_correct_layer_passes(string name)
    {
        var bug = BackwardBug.Find(name)!;
        var correct = CheckLayer(name, bug: null);
        Assert.True(correct.Passed(Tolerance), correct.ToTable());

        var broken = CheckLayer(name, bug);
        Assert.Contains($"[bug: {name}]", broken.Subject);
        Assert.Equal(correct.Results.Select(r => r.Name), broken.Results.Select(r => r.Name));
        string[] wrong = WrongTensors(name);
        foreach (var r in broken.Results)
        {
            if (wrong.Contains(r.Name)) Assert.True(r.RelativeError > WideMargin, $"{name}: {r.Name} passed with {r.RelativeError:E2}\n{broken.ToTable()}");
            else Assert.True(r.RelativeError < Tolerance, $"{name}: {r.Name} should be untouched\n{broken.ToTable()}");
        }
    }

    [Theory]
    [InlineData(6)]
    [InlineData(3)]
    public void A_loss_gradient_N_times_too_large_gives_relative_error_N_minus_1_over_N_plus_1(int n)
    {
        var rng = new Rng(12);
        var labels = Enumerable.Range(0, n).Select(i => i % 4).ToArray();
        var bug = BackwardBug.Find(BackwardBug.CrossEntropyNotAveraged)!;
        var report = Check.Check(null, bug.Apply(new CrossEntropyLoss<double>(0.1)), Tensor<double>.RandomNormal(rng, 0, 1, n, 4), labels);
        Assert.Equal((n - 1.0) / (n + 1.0), report.Results[0].RelativeError, 1e-6);
        Assert.Equal(n, report.Results[0].WorstAnalytic / report.Results[0].WorstNumeric, 1e-4);
    }

    [Fact]
    public void A_missing_bias_gradient_gives_relative_error_exactly_one()
    {
        var report = CheckLayer(BackwardBug.NoBiasGradient, BackwardBug.Find(BackwardBug.NoBiasGradient));
        var bias = report.Results.Single(r => r.Name == "bias");
        Assert.Equal(0, bias.WorstAnalytic);
        Assert.Equal(1, bias.RelativeError, 12);
    }

    [Fact]
    public void Applied_to_a_network_the_bug_wraps_every_layer_of_its_kind_and_keeps_the_parameters_and_names()
    {
        var rng = new Rng(13);
        var model = new Sequential<double>(
            new Linear<double>(5, 4, rng: rng), new BatchNorm1d<double>(4), new ReLU<double>(),
            new Linear<double>(4, 4, rng: rng), new ReLU<double>(), new Linear<double>(4, 3, rng: rng));
        foreach (var bug in BackwardBug.All)
        {
            var buggy = bug.Apply(model);
            Assert.Equal(model.NamedParameters().Select(p => p.Name), buggy.NamedParameters().Select(p => p.Name));
            Assert.Equal(model.NamedParameters().Select(p => p.Parameter), buggy.NamedParameters().Select(p => p.Parameter));
            Assert.Equal(model.NamedBuffers().Select(b => b.Buffer), buggy.NamedBuffers().Select(b => b.Buffer));
        }
        Assert.Equal(2, BackwardBug.Find(BackwardBug.ReluMaskFromGradient)!.Apply(model).Modules.Count(m => m is ReLUMaskFromGradient<double>));
        Assert.Equal(3, BackwardBug.Find(BackwardBug.NoBiasGradient)!.Apply(model).Modules.Count(m => m is LinearWithoutBiasGradient<double>));
        // Only the square 4→4 layer can compute dyᵀ·y into W's gradient.
        Assert.Single(BackwardBug.Find(BackwardBug.WeightGradientFromOutput)!.Apply(model).Modules.OfType<LinearWeightGradientFromOutput<double>>());
        Assert.False(BackwardBug.Find(BackwardBug.SigmoidDerivativeOfOutput)!.Affects(model));
    }

    [Fact]
    public void The_batchnorm_bug_is_harmless_in_evaluation_mode_where_the_statistics_are_constants()
    {
        var rng = new Rng(14);
        var bn = new BatchNorm1d<double>(3);
        bn.Forward(AwayFromZero(rng, 10, 3)); // running statistics from one batch
        bn.Eval();
        var buggy = BackwardBug.Find(BackwardBug.BatchNormConstantStatistics)!.Apply(bn);
        Assert.False(buggy.IsTraining);
        var report = Check.Check(buggy, AwayFromZero(rng, 6, 3), rng);
        Assert.True(report.Passed(Tolerance), report.ToTable());
    }

    [Fact]
    public void Mode_switches_reach_the_wrapped_layer()
    {
        var bn = new BatchNorm1d<double>(2);
        var model = BackwardBug.Find(BackwardBug.BatchNormConstantStatistics)!.Apply(new Sequential<double>(bn));
        model.Eval();
        model.Forward(Tensor<double>.RandomNormal(new Rng(15), 0, 1, 4, 2));
        Assert.False(bn.IsTraining);
        Assert.Equal(0.0, bn.RunningMean[0]); // evaluation: the running statistics did not move
    }

    [Fact]
    public void The_weight_from_output_variant_refuses_a_non_square_layer_naming_both_shapes()
    {
        var bug = BackwardBug.Find(BackwardBug.WeightGradientFromOutput)!;
        var layer = new Linear<double>(7, 5);
        Assert.Same(layer, bug.Apply(layer)); // left correct: the bug cannot be written for it
        var e = Assert.Throws<ArgumentException>(() => new LinearWeightGradientFromOutput<double>(layer, bug));
        Assert.Contains("(5, 5)", e.Message);
        Assert.Contains("(5, 7)", e.Message);
    }

    [Fact]
    public void Names_are_distinct_and_each_bug_says_what_it_does_and_why_it_shows()
    {
        Assert.True(BackwardBug.All.Count >= 7);
        Assert.Equal(BackwardBug.All.Count, BackwardBug.All.Select(b => b.Name).Distinct().Count());
        foreach (var b in BackwardBug.All)
        {
            Assert.Same(b, BackwardBug.Find(b.Name));
            Assert.False(string.IsNullOrWhiteSpace(b.Mistake));
            Assert.False(string.IsNullOrWhiteSpace(b.Symptom));
        }
        Assert.Null(BackwardBug.Find("no-such-bug"));
    }

    [Fact]
    public void Log_gradient_matches_and_softmax_then_log_is_the_fused_cross_entropy()
    {
        var rng = new Rng(16);
        var positive = Tensor<double>.RandomUniform(rng, 0.1, 2, 5, 4);
        var log = Check.Check(new Log<double>(), positive, rng);
        Assert.True(log.Passed(Tolerance), log.ToTable());

        // CE(log softmax(x)) = −log p_label, the fused loss; and so is its gradient through Softmax's and Log's backward.
        var x = Tensor<double>.RandomNormal(rng, 0, 3, 5, 4);
        int[] labels = [1, 0, 3, 2, 1];
        var unfused = new Sequential<double>(new Softmax<double>(), new Log<double>());
        var lossA = new CrossEntropyLoss<double>(0.1);
        var lossB = new CrossEntropyLoss<double>(0.1);
        double a = lossA.Forward(unfused.Forward(x), labels);
        double b = lossB.Forward(x, labels);
        Assert.Equal(b, a, 12);
        var ga = unfused.Backward(lossA.Backward()).Clone();
        var gb = lossB.Backward();
        for (int i = 0; i < ga.Length; i++) Assert.Equal(gb.Span[i], ga.Span[i], 12);
        Assert.True(Check.Check(unfused, new CrossEntropyLoss<double>(0.1), x, labels).Passed(Tolerance));
    }
}
