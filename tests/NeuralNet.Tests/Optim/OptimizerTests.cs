using System.Text.Json;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Optim.Schedules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Golden;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Optim;

[Collection("Serial")]
public class OptimizerTests
{
    private static readonly GoldenFile s_golden = GoldenFile.Load("optimizers.json");

    public static TheoryData<string> Cases() => new(s_golden["cases"].EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static Optimizer<double> Build(JsonElement c, Parameter<double> p)
    {
        var h = c.GetProperty("hyper");
        double D(string k, double dflt = 0) => h.TryGetProperty(k, out var v) ? (v.ValueKind == JsonValueKind.True ? 1 : v.ValueKind == JsonValueKind.False ? 0 : v.GetDouble()) : dflt;
        return c.GetProperty("optimizer").GetString() switch
        {
            "sgd" => new SGD<double>([p], D("lr"), D("momentum"), D("dampening"), D("weight_decay"), D("nesterov") != 0),
            "adam" => new Adam<double>([p], D("lr"), h.GetProperty("betas")[0].GetDouble(), h.GetProperty("betas")[1].GetDouble(), D("eps"), D("weight_decay")),
            "adamw" => new AdamW<double>([p], D("lr"), h.GetProperty("betas")[0].GetDouble(), h.GetProperty("betas")[1].GetDouble(), D("eps"), D("weight_decay")),
            "rmsprop" => new RMSProp<double>([p], D("lr"), D("alpha"), D("eps"), D("weight_decay"), D("momentum"), D("centered") != 0),
            var o => throw new ArgumentException(o),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ten_steps_match_torch_optim(string name)
    {
        var c = s_golden["cases"].EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var p = new Parameter<double>(GoldenFile.Tensor(s_golden["param0"]));
        var opt = Build(c, p);
        var grads = s_golden["grads"].EnumerateArray().Select(GoldenFile.Tensor).ToArray();
        var expected = c.GetProperty("params").EnumerateArray().Select(GoldenFile.Tensor).ToArray();
        for (int t = 0; t < 10; t++)
        {
            grads[t].CopyTo(p.Grad);
            opt.Step();
            AssertClose(expected[t], p.Value, 1e-10, $"{name} after step {t + 1}");
        }
    }

    [Fact]
    public void Sgd_momentum_nesterov_step_by_hand()
    {
        // θ = 1, g = 0.5, λ = 0.1, μ = 0.9, η = 0.1
        // step 1: g' = 0.5 + 0.1·1 = 0.6; b = 0.6; Nesterov g'' = 0.6 + 0.9·0.6 = 1.14; θ = 1 − 0.114 = 0.886
        // step 2 (g = 0.5): g' = 0.5 + 0.0886 = 0.5886; b = 0.9·0.6 + 0.5886 = 1.1286; g'' = 0.5886 + 0.9·1.1286 = 1.60434; θ = 0.886 − 0.160434
        var p = new Parameter<double>(Tensor<double>.FromArray([1.0], 1));
        var opt = new SGD<double>([p], 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true);
        p.Grad[0] = 0.5;
        opt.Step();
        Assert.Equal(0.886, p.Value[0], 12);
        opt.Step();
        Assert.Equal(0.886 - 0.160434, p.Value[0], 12);
    }

    [Fact]
    public void Adam_bias_correction_at_step_1_and_10()
    {
        // With a constant gradient g, m = (1 − β₁ᵗ)g and v = (1 − β₂ᵗ)g², so m̂ = g and v̂ = g² exactly:
        // every step moves θ by η·g/(|g| + ε) — the bias correction is what makes step 1 full-sized.
        var p = new Parameter<double>(Tensor<double>.FromArray([0.0, 0.0], 2));
        var opt = new Adam<double>([p], learningRate: 0.01, eps: 1e-8);
        double[] g = [0.3, -2.0];
        for (int t = 1; t <= 10; t++)
        {
            p.Grad[0] = g[0];
            p.Grad[1] = g[1];
            opt.Step();
            if (t is 1 or 10)
            {
                Assert.Equal(-t * 0.01 * 0.3 / (0.3 + 1e-8), p.Value[0], 12);
                Assert.Equal(t * 0.01 * 2.0 / (2.0 + 1e-8), p.Value[1], 12);
            }
        }
        var state = opt.State().ToDictionary(s => s.Name, s => s.Tensor);
        Assert.Equal((1 - Math.Pow(0.9, 10)) * 0.3, state["exp_avg.0"][0], 12);
        Assert.Equal((1 - Math.Pow(0.999, 10)) * 4.0, state["exp_avg_sq.0"][1], 12);
    }

    [Fact]
    public void AdamW_decays_weights_without_gradient()
    {
        var p = new Parameter<double>(Tensor<double>.FromArray([2.0], 1));
        var opt = new AdamW<double>([p], learningRate: 0.1, weightDecay: 0.5);
        opt.Step(); // g = 0: m = v = 0, so only the decay acts: θ = 2·(1 − 0.05)
        Assert.Equal(1.9, p.Value[0], 14);
    }

    [Theory]
    [InlineData("sgd_momentum")]
    [InlineData("adam")]
    [InlineData("rmsprop_momentum")]
    public void State_survives_save_and_load(string name)
    {
        var c = s_golden["cases"].EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var grads = s_golden["grads"].EnumerateArray().Select(GoldenFile.Tensor).ToArray();
        var p1 = new Parameter<double>(GoldenFile.Tensor(s_golden["param0"]));
        var straight = Build(c, p1);
        for (int t = 0; t < 10; t++) { grads[t].CopyTo(p1.Grad); straight.Step(); }

        var p2 = new Parameter<double>(GoldenFile.Tensor(s_golden["param0"]));
        var first = Build(c, p2);
        for (int t = 0; t < 5; t++) { grads[t].CopyTo(p2.Grad); first.Step(); }
        var saved = first.State().ToDictionary(s => s.Name, s => s.Tensor.Clone());
        var resumed = Build(c, p2);
        resumed.LoadState(saved, first.StepCount);
        for (int t = 5; t < 10; t++) { grads[t].CopyTo(p2.Grad); resumed.Step(); }
        Assert.True(p1.Value.ContentEquals(p2.Value), $"{name}: resumed {p2.Value} vs straight {p1.Value}");
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected_by_name()
    {
        var p = new Parameter<double>(new Tensor<double>(2));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], beta1: 1.0));
        Assert.Contains("beta1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD<double>([p], -0.1));
        Assert.Throws<ArgumentException>(() => new SGD<double>([p], 0.1, nesterov: true));
    }

    [Fact]
    public void Steps_and_clearing_are_the_same_bytes_on_any_number_of_threads()
    {
        // Thread t updates slice t of every parameter: sizes that do not split evenly, below one slice and above.
        int[] sizes = [100_352, 40_003, 128, 17, 1];
        Tensor<float>[] Run(int threads)
        {
            int saved = TensorOps.Threads;
            try
            {
                TensorOps.Threads = threads;
                var rng = new Rng(5);
                var ps = sizes.Select(n => new Parameter<float>(Tensor<float>.RandomNormal(rng, 0, 1, n))).ToArray();
                var opt = new Adam<float>(ps, learningRate: 0.01);
                for (int t = 0; t < 3; t++)
                {
                    foreach (var p in ps) Tensor<float>.RandomNormal(rng, 0, 1, p.Value.Length).CopyTo(p.Grad);
                    opt.Step();
                }
                opt.ZeroGrad();
                foreach (var p in ps) Assert.True(p.Grad.Span.IndexOfAnyExcept(0f) < 0, $"{p}: ZeroGrad left a non-zero gradient on {threads} threads");
                return ps.Select(p => p.Value).Concat(opt.State().Select(s => s.Tensor)).ToArray();
            }
            finally
            {
                TensorOps.Threads = saved;
            }
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var many = Run(threads);
            for (int i = 0; i < one.Length; i++) Assert.True(one[i].ContentEquals(many[i]), $"tensor {i} differs on {threads} threads");
        }
    }

    [Fact]
    public void Steps_allocate_nothing()
    {
        var ps = new[] { new Parameter<float>(new Tensor<float>(100, 37)), new Parameter<float>(new Tensor<float>(37)) };
        Optimizer<float>[] opts = [new SGD<float>(ps, 0.1, 0.9, nesterov: true), new Adam<float>(ps), new AdamW<float>(ps), new RMSProp<float>(ps, momentum: 0.9, centered: true)];
        foreach (var o in opts) o.Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var o in opts) for (int i = 0; i < 5; i++) o.Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Schedules_follow_their_formulas()
    {
        Assert.Equal(0.1 * 0.5 * 0.5, new StepDecay(3, 0.5).At(7, 0.1), 15);
        var cos = new CosineAnnealing(10, 0.001);
        Assert.Equal(0.1, cos.At(0, 0.1), 15);
        Assert.Equal(0.001 + (0.1 - 0.001) / 2, cos.At(5, 0.1), 15);
        Assert.Equal(0.001, cos.At(12, 0.1), 15);
        var warm = new LinearWarmup(4, new StepDecay(2, 0.1));
        Assert.Equal(0.1 * 1 / 5, warm.At(0, 0.1), 15);
        Assert.Equal(0.1 * 4 / 5, warm.At(3, 0.1), 15);
        Assert.Equal(0.1, warm.At(4, 0.1), 15);
        Assert.Equal(0.01, warm.At(6, 0.1), 15);
    }
}

public class RMSPropHandTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(11)] // past one Vector256<double> (4) and into the scalar tail
    public void One_step_by_hand_plain_momentum_and_centered(int length)
    {
        // θ = 1, g = 0.5, α = 0.9, ε = 1e-8, η = 0.01:
        // v = 0.1·0.25 = 0.025; plain θ = 1 − 0.01·0.5/(√0.025 + 1e-8)
        // momentum μ = 0.5: b = 0.5/(√0.025 + 1e-8), θ = 1 − 0.01·b (the same at step 1)
        // centered: ḡ = 0.05, d = √(0.025 − 0.0025) + 1e-8
        double plain = 1 - 0.01 * 0.5 / (Math.Sqrt(0.025) + 1e-8);
        double centered = 1 - 0.01 * 0.5 / (Math.Sqrt(0.025 - 0.0025) + 1e-8);
        foreach (var (opt, expected) in new (Func<NeuralNet.Modules.Parameter<double>, Optimizer<double>>, double)[]
        {
            (p => new RMSProp<double>([p], 0.01, alpha: 0.9), plain),
            (p => new RMSProp<double>([p], 0.01, alpha: 0.9, momentum: 0.5), plain),
            (p => new RMSProp<double>([p], 0.01, alpha: 0.9, centered: true), centered),
        })
        {
            var p = new NeuralNet.Modules.Parameter<double>(Tensor<double>.Full(1.0, length));
            p.Grad.Fill(0.5);
            opt(p).Step();
            Assert.All(p.Value.ToArray(), v => Assert.Equal(expected, v, 12));
        }
    }
}
