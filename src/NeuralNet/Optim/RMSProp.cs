using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Optim;

/// <summary>
/// RMSProp (Hinton's lecture 6e), PyTorch's form:
/// <code>
///   g ← ∇θ + λ·θ
///   v ← α·v + (1 − α)·g²
///   d = √v + ε          (centered: ḡ ← α·ḡ + (1 − α)·g,  d = √(v − ḡ²) + ε)
///   b ← μ·b + g/d, θ ← θ − η·b   (momentum μ > 0)     or     θ ← θ − η·g/d
/// </code>
/// Defaults α = 0.99, ε = 1e-8.
/// </summary>
public sealed class RMSProp<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _square;
    private readonly Tensor<T>[] _momentum;
    private readonly Tensor<T>[] _gradAvg;

    /// <summary>RMSProp over <paramref name="parameters"/>; v (and b, ḡ when used) are allocated here, at zero.</summary>
    /// <param name="parameters">The parameters to update (at least one).</param>
    /// <param name="learningRate">η, finite and ≥ 0 (default 1e-2).</param>
    /// <param name="alpha">α in [0, 1), the decay of the squared-gradient average v (default 0.99).</param>
    /// <param name="eps">ε ≥ 0, added to the denominator (default 1e-8).</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0), the L2 term λ·θ added to the gradient.</param>
    /// <param name="momentum">μ ≥ 0 (default 0: no momentum buffer).</param>
    /// <param name="centered">Divide by an estimate of the standard deviation, √(v − ḡ²), instead of √v (default false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public RMSProp(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameters, learningRate)
    {
        Require(alpha >= 0 && alpha < 1, nameof(alpha), alpha, "in [0, 1)");
        Require(eps >= 0, nameof(eps), eps, "≥ 0");
        Require(weightDecay >= 0, nameof(weightDecay), weightDecay, "≥ 0");
        Require(momentum >= 0, nameof(momentum), momentum, "≥ 0");
        (Alpha, Eps, WeightDecay, Momentum, Centered) = (alpha, eps, weightDecay, momentum, centered);
        _square = ZerosLikeParameters();
        _momentum = momentum > 0 ? ZerosLikeParameters() : [];
        _gradAvg = centered ? ZerosLikeParameters() : [];
    }

    /// <summary>α in [0, 1): v ← α·v + (1 − α)·g².</summary>
    public double Alpha { get; }

    /// <summary>ε ≥ 0 in d = √v + ε.</summary>
    public double Eps { get; }

    /// <summary>λ ≥ 0, the L2 penalty: λ·θ is added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <summary>μ ≥ 0: b ← μ·b + g/d, θ ← θ − η·b (0: θ ← θ − η·g/d).</summary>
    public double Momentum { get; }

    /// <summary>True when d = √(v − ḡ²) + ε, with ḡ the running mean of g.</summary>
    public bool Centered { get; }

    /// <summary>lr, alpha, eps, weight_decay, momentum and centered (1 or 0).</summary>
    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["alpha"] = Alpha, ["eps"] = Eps, ["weight_decay"] = WeightDecay, ["momentum"] = Momentum, ["centered"] = Centered ? 1 : 0,
    };

    /// <summary>v as "square_avg.i"; then b as "momentum_buffer.i" when μ &gt; 0; then ḡ as "grad_avg.i" when centered (PyTorch's names), each shaped like parameter i.</summary>
    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() =>
        _square.Select((t, i) => ($"square_avg.{i}", t))
            .Concat(_momentum.Select((t, i) => ($"momentum_buffer.{i}", t)))
            .Concat(_gradAvg.Select((t, i) => ($"grad_avg.{i}", t))).ToArray();

    /// <summary>v ← αv + (1 − α)g²; d = √v + ε (centered: √(v − ḡ²) + ε); θ ← θ − η·g/d, or with momentum b ← μb + g/d, θ ← θ − η·b.</summary>
    protected override void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad)
    {
        Span<T> v = _square[index].Span.Slice(offset, value.Length);
        Span<T> b = Momentum > 0 ? _momentum[index].Span.Slice(offset, value.Length) : default;
        Span<T> gAvg = Centered ? _gradAvg[index].Span.Slice(offset, value.Length) : default;
        // v ← αv + (1 − α)g²;  d = √v + ε (centered: √(v − ḡ²) + ε);  θ ← θ − η·g/d (momentum: b ← μb + g/d, θ ← θ − η·b)
        TensorOps.RmsPropStep(value, grad, v, b, gAvg, LearningRate, Alpha, Eps, WeightDecay, Momentum, Centered);
    }

    /// <summary>PyTorch style: <c>RMSProp(lr=0.01, alpha=0.99, eps=1E-08, momentum=0, centered=False)</c>.</summary>
    public override string ToString() => $"RMSProp(lr={LearningRate}, alpha={Alpha}, eps={Eps}, momentum={Momentum}, centered={Centered})";
}
