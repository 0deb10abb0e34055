using NeuralNet.Init;
using NeuralNet.Layers;
using NeuralNet.Tensors;
using InitFactory = NeuralNet.Init.Init;

// NOTE: not NeuralNet.Tests.Init: a namespace of that name would capture `Init.Init.HeNormal()` in sibling test
// namespaces (GradCheckTests uses it), which would then no longer compile.
namespace NeuralNet.Tests.Initialization;

public class InitTests
{
    private const int FanIn = 784, FanOut = 256;

    public static TheoryData<string> Initializers() =>
        new("xavier_uniform", "xavier_normal", "he_normal", "he_uniform", "normal:0.01", "default", "zeros");

    private static Initializer Make(string name) => name switch
    {
        "xavier_uniform" => InitFactory.XavierUniform(),
        "xavier_normal" => InitFactory.XavierNormal(),
        "he_normal" => InitFactory.HeNormal(),
        "he_uniform" => InitFactory.HeUniform(),
        "normal:0.01" => InitFactory.Normal(0.01),
        "default" => InitFactory.LinearDefault,
        "zeros" => InitFactory.Zeros,
        _ => throw new ArgumentException(name),
    };

    private static (double Mean, double Variance) Moments(ReadOnlySpan<double> s)
    {
        double sum = 0;
        foreach (double v in s) sum += v;
        double mean = sum / s.Length;
        double ss = 0;
        foreach (double v in s) ss += (v - mean) * (v - mean);
        return (mean, ss / (s.Length - 1));
    }

    [Theory]
    [MemberData(nameof(Initializers))]
    public void Sample_variance_matches_Variance(string name)
    {
        var init = Make(name);
        var w = Tensor<double>.Full(1.0, FanOut, FanIn);  // pre-filled: Fill must overwrite every element
        init.Fill(w, FanIn, FanOut, new Rng(2015));

        double expectedVar = init.Variance(FanIn, FanOut);
        var (mean, variance) = Moments(w.ReadOnlySpan);
        if (expectedVar == 0)
        {
            Assert.All(w.ToArray(), v => Assert.Equal(0.0, v));
            return;
        }
        // n = 200,704 samples: the variance's standard error is < 0.4 %, the mean's is σ/√n.
        Assert.True(Math.Abs(variance / expectedVar - 1) < 0.03, $"{name}: sample variance {variance:E4}, expected {expectedVar:E4}");
        double meanBound = 5 * Math.Sqrt(expectedVar / w.Length);
        Assert.True(Math.Abs(mean) < meanBound, $"{name}: mean {mean:E3} exceeds {meanBound:E3}");
    }

    [Theory]
    [MemberData(nameof(Initializers))]
    public void Float_fill_matches_Variance(string name)
    {
        var init = Make(name);
        var w = Tensor<float>.Full(1f, 128, 300);
        init.Fill(w, 300, 128, new Rng(7));
        double expectedVar = init.Variance(300, 128);
        double[] d = w.ToArray().Select(v => (double)v).ToArray();
        var (_, variance) = Moments(d);
        if (expectedVar == 0) Assert.Equal(0.0, variance);
        else Assert.True(Math.Abs(variance / expectedVar - 1) < 0.05, $"{name}: sample variance {variance:E4}, expected {expectedVar:E4}");
    }

    [Fact]
    public void Variance_is_the_published_formula()
    {
        const int fi = 784, fo = 256;
        Assert.Equal(2.0 / (fi + fo), InitFactory.XavierUniform().Variance(fi, fo), 1e-15);
        Assert.Equal(2.0 / (fi + fo), InitFactory.XavierNormal().Variance(fi, fo), 1e-15);
        Assert.Equal(2.0 / fi, InitFactory.HeNormal().Variance(fi, fo), 1e-15);
        Assert.Equal(2.0 / fi, InitFactory.HeUniform().Variance(fi, fo), 1e-15);
        Assert.Equal(1e-4, InitFactory.Normal(0.01).Variance(fi, fo), 1e-18);
        Assert.Equal(1.0 / (3.0 * fi), InitFactory.LinearDefault.Variance(fi, fo), 1e-15);
        Assert.Equal(0.0, InitFactory.Zeros.Variance(fi, fo));
    }

    [Fact]
    public void Gain_scales_the_variance_by_its_square()
    {
        Assert.Equal(4 * 2.0 / 150, InitFactory.XavierUniform(gain: 2).Variance(100, 50), 1e-15);
        Assert.Equal(0.25 * 2.0 / 150, InitFactory.XavierNormal(gain: 0.5).Variance(100, 50), 1e-15);
        Assert.Equal(1.0 / 100, InitFactory.HeNormal(gain: 1).Variance(100, 50), 1e-15);
        Assert.Equal(9.0 / 100, InitFactory.HeUniform(gain: 3).Variance(100, 50), 1e-15);
    }

    [Theory]
    [InlineData("xavier_uniform")]
    [InlineData("he_uniform")]
    [InlineData("default")]
    public void Uniform_initializers_stay_within_their_bound(string name)
    {
        var init = Make(name);
        double a = Math.Sqrt(3 * init.Variance(FanIn, FanOut));
        var w = new Tensor<double>(FanOut, FanIn);
        init.Fill(w, FanIn, FanOut, new Rng(11));
        double maxAbs = w.ToArray().Max(Math.Abs);
        Assert.True(maxAbs <= a, $"{name}: |w| reached {maxAbs}, bound {a}");
        Assert.True(maxAbs > 0.999 * a, $"{name}: |w| only reached {maxAbs} of bound {a}: not U(−a, a)");
    }

    [Theory]
    [InlineData("xavier_normal")]
    [InlineData("he_normal")]
    [InlineData("normal:0.01")]
    public void Normal_initializers_have_gaussian_tails(string name)
    {
        // Same variance as a uniform, but |w| > 3σ about 0.27 % of the time (a uniform never exceeds √3·σ).
        var init = Make(name);
        double sigma = Math.Sqrt(init.Variance(FanIn, FanOut));
        var w = new Tensor<double>(FanOut, FanIn);
        init.Fill(w, FanIn, FanOut, new Rng(12));
        double frac = w.ToArray().Count(v => Math.Abs(v) > 3 * sigma) / (double)w.Length;
        Assert.InRange(frac, 0.002, 0.0035);
    }

    [Fact]
    public void Same_rng_seed_gives_identical_fills()
    {
        var a = new Tensor<double>(16, 32);
        var b = new Tensor<double>(16, 32);
        var c = new Tensor<double>(16, 32);
        InitFactory.HeNormal().Fill(a, 32, 16, new Rng(5));
        InitFactory.HeNormal().Fill(b, 32, 16, new Rng(5));
        InitFactory.HeNormal().Fill(c, 32, 16, new Rng(6));
        Assert.True(a.ContentEquals(b));
        Assert.False(a.ContentEquals(c));
    }

    [Theory]
    [InlineData("xavier_uniform", "xavier_uniform")]
    [InlineData("glorot", "xavier_uniform")]
    [InlineData("Xavier-Normal", "xavier_normal")]
    [InlineData("he", "he_normal")]
    [InlineData("kaiming_normal", "he_normal")]
    [InlineData("HE_UNIFORM", "he_uniform")]
    [InlineData("kaiming-uniform", "he_uniform")]
    [InlineData("zeros", "zeros")]
    [InlineData(" default ", "default")]
    [InlineData("naive", "normal:0.01")]
    [InlineData("normal:0.05", "normal:0.05")]
    public void Parse_accepts_known_names(string input, string expectedName) =>
        Assert.Equal(expectedName, InitFactory.Parse(input).Name);

    [Fact]
    public void Parse_normal_uses_the_given_std()
    {
        Assert.Equal(0.0025, InitFactory.Parse("normal:0.05").Variance(10, 10), 1e-15);
        Assert.Equal(InitFactory.HeNormal().Variance(784, 10), InitFactory.Parse("he").Variance(784, 10));
    }

    [Theory]
    [InlineData("lecun")]
    [InlineData("normal:-1")]
    [InlineData("normal:abc")]
    [InlineData("")]
    public void Parse_rejects_unknown_names_listing_the_known_ones(string input)
    {
        var ex = Assert.Throws<ArgumentException>(() => InitFactory.Parse(input));
        Assert.Contains($"'{input}'", ex.Message);
        foreach (string known in new[] { "xavier_uniform", "xavier_normal", "he_normal", "he_uniform", "zeros", "default" })
            Assert.Contains(known, ex.Message);
    }

    // ---- Linear ---------------------------------------------------------------------------------

    [Fact]
    public void Linear_with_a_seeded_rng_is_reproducible()
    {
        var a = new Linear<double>(784, 128, InitFactory.HeNormal(), rng: new Rng(7));
        var b = new Linear<double>(784, 128, InitFactory.HeNormal(), rng: new Rng(7));
        var c = new Linear<double>(784, 128, InitFactory.HeNormal(), rng: new Rng(8));

        Assert.Equal(new Shape(128, 784), a.Weight.Shape);
        Assert.True(a.Weight.Value.ContentEquals(b.Weight.Value), "same seed must give bit-identical weights");
        Assert.False(a.Weight.Value.ContentEquals(c.Weight.Value));

        // Weights are exactly what the initializer draws from a fresh Rng(7).
        var expected = new Tensor<double>(128, 784);
        InitFactory.HeNormal().Fill(expected, 784, 128, new Rng(7));
        Assert.True(a.Weight.Value.ContentEquals(expected));
    }

    [Fact]
    public void Linear_bias_is_zero_when_an_initializer_is_given()
    {
        var layer = new Linear<double>(784, 128, InitFactory.HeNormal(), rng: new Rng(7));
        Assert.NotNull(layer.Bias);
        Assert.Equal(new Shape(128), layer.Bias!.Shape);
        Assert.All(layer.Bias.Value.ToArray(), v => Assert.Equal(0.0, v));
        Assert.Equal("he_normal", layer.Initializer.Name);
    }

    [Fact]
    public void Linear_default_init_is_uniform_in_inverse_sqrt_fan_in_for_weight_and_bias()
    {
        var layer = new Linear<float>(100, 50, rng: new Rng(3));
        float bound = 1f / MathF.Sqrt(100);
        Assert.Equal("default", layer.Initializer.Name);
        Assert.All(layer.Weight.Value.ToArray(), v => Assert.InRange(v, -bound, bound));
        float[] bias = layer.Bias!.Value.ToArray();
        Assert.All(bias, v => Assert.InRange(v, -bound, bound));
        Assert.True(bias.Count(v => v != 0) > 45, "default bias is drawn, not zero");
    }
}
