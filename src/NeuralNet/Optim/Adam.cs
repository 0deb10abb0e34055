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

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Eps { get; }

    public double WeightDecay { get; }

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["beta1"] = Beta1, ["beta2"] = Beta2, ["eps"] = Eps, ["weight_decay"] = WeightDecay,
    };

    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() =>
        _m.Select((t, i) => ($"exp_avg.{i}", t)).Concat(_v.Select((t, i) => ($"exp_avg_sq.{i}", t))).ToArray();

    protected override void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad)
    {
        Span<T> m = _m[index].Span.Slice(offset, value.Length), v = _v[index].Span.Slice(offset, value.Length);
        // (AdamW: θ ← θ(1 − ηλ));  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε)
        TensorOps.AdamStep(value, grad, m, v, LearningRate, Beta1, Beta2, Eps, WeightDecay, _decoupled, StepCount);
    }

    public override string ToString() => $"{GetType().Name.Split('`')[0]}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={Eps}, weight_decay={WeightDecay})";
}
