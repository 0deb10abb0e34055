using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Optim;

/// <summary>
/// Adam (Kingma and Ba, 2015), with L2 weight decay added to the gradient as in PyTorch's Adam:
/// <code>
///   g ← ∇θ + λ·θ
///   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
///   m̂ = m / (1 − β₁ᵗ)              v̂ = v / (1 − β₂ᵗ)        (bias correction: m, v start at 0)
///   θ ← θ − η·m̂ / (√v̂ + ε)
/// </code>
/// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8 as in the paper. For decoupled weight decay use <see cref="AdamW{T}"/>.
/// </summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _m;
    private readonly Tensor<T>[] _v;
    private readonly bool _decoupled;

    /// <summary>Adam over <paramref name="parameters"/>; the moment estimates m and v are allocated here, at zero.</summary>
    /// <param name="parameters">The parameters to update (at least one).</param>
    /// <param name="learningRate">η, finite and ≥ 0 (default 1e-3).</param>
    /// <param name="beta1">β₁ in [0, 1), the decay of the first moment m (default 0.9).</param>
    /// <param name="beta2">β₂ in [0, 1), the decay of the second moment v (default 0.999).</param>
    /// <param name="eps">ε ≥ 0, added to √v̂ in the denominator (default 1e-8).</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0), the L2 term λ·θ added to the gradient.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public Adam(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0)
        : this(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: false) { }

    private protected Adam(IEnumerable<Parameter<T>> parameters, double learningRate, double beta1, double beta2, double eps,
        double weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        Require(beta1 >= 0 && beta1 < 1, nameof(beta1), beta1, "in [0, 1)");
        Require(beta2 >= 0 && beta2 < 1, nameof(beta2), beta2, "in [0, 1)");
        Require(eps >= 0, nameof(eps), eps, "≥ 0");
        Require(weightDecay >= 0, nameof(weightDecay), weightDecay, "≥ 0");
        (Beta1, Beta2, Eps, WeightDecay, _decoupled) = (beta1, beta2, eps, weightDecay, decoupled);
        _m = ZerosLikeParameters();
        _v = ZerosLikeParameters();
    }

    /// <summary>β₁ in [0, 1): m ← β₁·m + (1 − β₁)·g.</summary>
    public double Beta1 { get; }

    /// <summary>β₂ in [0, 1): v ← β₂·v + (1 − β₂)·g².</summary>
    public double Beta2 { get; }

    /// <summary>ε ≥ 0 in θ ← θ − η·m̂/(√v̂ + ε).</summary>
    public double Eps { get; }

    /// <summary>λ ≥ 0: added to the gradient as λ·θ (Adam), or applied as θ ← θ·(1 − η·λ) (<see cref="AdamW{T}"/>).</summary>
    public double WeightDecay { get; }

    /// <summary>lr, beta1, beta2, eps and weight_decay.</summary>
    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["beta1"] = Beta1, ["beta2"] = Beta2, ["eps"] = Eps, ["weight_decay"] = WeightDecay,
    };

    /// <summary>m as "exp_avg.i", then v as "exp_avg_sq.i", for every parameter i (PyTorch's names), each shaped like it.</summary>
    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() =>
        _m.Select((t, i) => ($"exp_avg.{i}", t)).Concat(_v.Select((t, i) => ($"exp_avg_sq.{i}", t))).ToArray();

    /// <summary>(AdamW: θ ← θ·(1 − η·λ) first); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η·m̂/(√v̂ + ε).</summary>
    protected override void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad)
    {
        Span<T> m = _m[index].Span.Slice(offset, value.Length), v = _v[index].Span.Slice(offset, value.Length);
        // (AdamW: θ ← θ(1 − ηλ));  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε)
        TensorOps.AdamStep(value, grad, m, v, LearningRate, Beta1, Beta2, Eps, WeightDecay, _decoupled, StepCount);
    }

    /// <summary>PyTorch style: <c>Adam(lr=0.001, betas=(0.9, 0.999), eps=1E-08, weight_decay=0)</c> (or <c>AdamW(…)</c>).</summary>
    public override string ToString() => $"{GetType().Name.Split('`')[0]}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={Eps}, weight_decay={WeightDecay})";
}
