using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Init;

/// <summary>
/// A weight initialization scheme: fills a weight tensor given its fan-in (inputs per unit) and fan-out.
/// Variances are chosen so that signals (forward) or gradients (backward) keep their scale through depth.
/// </summary>
public abstract class Initializer
{
    /// <summary>A short name, e.g. "he_normal".</summary>
    public abstract string Name { get; }

    /// <summary>The variance of the distribution for the given fans (what the tests check the sample variance against).</summary>
    public abstract double Variance(int fanIn, int fanOut);

    /// <summary>Fills <paramref name="weight"/> with samples drawn from <paramref name="rng"/>.</summary>
    public abstract void Fill<T>(Tensor<T> weight, int fanIn, int fanOut, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The initializer's <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    /// <summary>Fills with U(−a, a); Var = a²/3.</summary>
    protected static void Uniform<T>(Tensor<T> w, double a, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = w.Span;
        for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(rng.NextDouble(-a, a));
    }

    /// <summary>Fills with N(0, std²).</summary>
    protected static void Normal<T>(Tensor<T> w, double std, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = w.Span;
        for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(std * rng.NextNormal());
    }
}

/// <summary>The built-in initializers and the default random source for layers built without one.</summary>
public static class Init
{
    private static Rng s_defaultRng = new(0);

    /// <summary>The random source layers use when none is given. <see cref="ManualSeed"/> resets it.</summary>
    public static Rng DefaultRng => s_defaultRng;

    /// <summary>Reseeds <see cref="DefaultRng"/>, like torch.manual_seed.</summary>
    public static void ManualSeed(ulong seed) => s_defaultRng = new Rng(seed);

    /// <summary>
    /// Xavier/Glorot uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)); Var = gain²·2/(fan_in + fan_out).
    /// Keeps variance through tanh/sigmoid-like (linear near 0) layers in both directions (Glorot and Bengio, 2010).
    /// </summary>
    public static Initializer XavierUniform(double gain = 1.0) => new XavierUniformInit(gain);

    /// <summary>Xavier/Glorot normal: N(0, σ²), σ = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Initializer XavierNormal(double gain = 1.0) => new XavierNormalInit(gain);

    /// <summary>
    /// He/Kaiming normal (fan-in mode): N(0, σ²), σ = gain/√fan_in with gain = √2 for ReLU, so Var = 2/fan_in.
    /// ReLU zeroes half its inputs, halving the second moment; the factor 2 restores it (He et al., 2015).
    /// </summary>
    public static Initializer HeNormal(double gain = 1.4142135623730951) => new HeNormalInit(gain);

    /// <summary>He/Kaiming uniform (fan-in mode): U(−a, a), a = gain·√(3/fan_in); Var = gain²/fan_in = 2/fan_in for ReLU.</summary>
    public static Initializer HeUniform(double gain = 1.4142135623730951) => new HeUniformInit(gain);

    /// <summary>A fixed-width normal N(0, std²), e.g. the naive N(0, 0.01²) that makes deep ReLU nets vanish.</summary>
    public static Initializer Normal(double std) => new NormalInit(std);

    /// <summary>All zeros (Var = 0): fine for biases, fatal for weights (every unit stays identical).</summary>
    public static Initializer Zeros { get; } = new ZerosInit();

    /// <summary>PyTorch's default for nn.Linear: U(−1/√fan_in, 1/√fan_in); Var = 1/(3·fan_in).</summary>
    public static Initializer LinearDefault { get; } = new LinearDefaultInit();

    /// <summary>Looks an initializer up by name: xavier_uniform, xavier_normal, he_normal, he_uniform, zeros, default, or normal:STD.</summary>
    public static Initializer Parse(string name)
    {
        string n = name.Trim().ToLowerInvariant().Replace('-', '_');
        if (n.StartsWith("normal:", StringComparison.Ordinal) &&
            double.TryParse(n.AsSpan(7), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double std) && std >= 0)
            return Normal(std);
        return n switch
        {
            "xavier" or "glorot" or "xavier_uniform" or "glorot_uniform" => XavierUniform(),
            "xavier_normal" or "glorot_normal" => XavierNormal(),
            "he" or "kaiming" or "he_normal" or "kaiming_normal" => HeNormal(),
            "he_uniform" or "kaiming_uniform" => HeUniform(),
            "zeros" => Zeros,
            "default" => LinearDefault,
            "naive" => Normal(0.01),
            _ => throw new ArgumentException($"Unknown initializer '{name}'. Known: xavier_uniform, xavier_normal, he_normal, he_uniform, zeros, default, naive, normal:STD."),
        };
    }

    private sealed class XavierUniformInit(double gain) : Initializer
    {
        public override string Name => "xavier_uniform";
        public override double Variance(int fanIn, int fanOut) => gain * gain * 2.0 / (fanIn + fanOut);
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Uniform(w, gain * Math.Sqrt(6.0 / (fanIn + fanOut)), rng);
    }

    private sealed class XavierNormalInit(double gain) : Initializer
    {
        public override string Name => "xavier_normal";
        public override double Variance(int fanIn, int fanOut) => gain * gain * 2.0 / (fanIn + fanOut);
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Normal(w, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), rng);
    }

    private sealed class HeNormalInit(double gain) : Initializer
    {
        public override string Name => "he_normal";
        public override double Variance(int fanIn, int fanOut) => gain * gain / fanIn;
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Normal(w, gain / Math.Sqrt(fanIn), rng);
    }

    private sealed class HeUniformInit(double gain) : Initializer
    {
        public override string Name => "he_uniform";
        public override double Variance(int fanIn, int fanOut) => gain * gain / fanIn;
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Uniform(w, gain * Math.Sqrt(3.0 / fanIn), rng);
    }

    private sealed class NormalInit(double std) : Initializer
    {
        public override string Name => $"normal:{std.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        public override double Variance(int fanIn, int fanOut) => std * std;
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Normal(w, std, rng);
    }

    private sealed class ZerosInit : Initializer
    {
        public override string Name => "zeros";
        public override double Variance(int fanIn, int fanOut) => 0;
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => w.Span.Clear();
    }

    private sealed class LinearDefaultInit : Initializer
    {
        public override string Name => "default";
        public override double Variance(int fanIn, int fanOut) => 1.0 / (3.0 * fanIn);
        public override void Fill<T>(Tensor<T> w, int fanIn, int fanOut, Rng rng) => Uniform(w, 1.0 / Math.Sqrt(fanIn), rng);
    }
}
