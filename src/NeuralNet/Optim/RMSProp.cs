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

    public double Alpha { get; }

    public double Eps { get; }

    public double WeightDecay { get; }

    public double Momentum { get; }

    public bool Centered { get; }

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["alpha"] = Alpha, ["eps"] = Eps, ["weight_decay"] = WeightDecay, ["momentum"] = Momentum, ["centered"] = Centered ? 1 : 0,
    };

    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() =>
        _square.Select((t, i) => ($"square_avg.{i}", t))
            .Concat(_momentum.Select((t, i) => ($"momentum_buffer.{i}", t)))
            .Concat(_gradAvg.Select((t, i) => ($"grad_avg.{i}", t))).ToArray();

    protected override void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad)
    {
        Span<T> v = _square[index].Span.Slice(offset, value.Length);
        Span<T> b = Momentum > 0 ? _momentum[index].Span.Slice(offset, value.Length) : default;
        Span<T> gAvg = Centered ? _gradAvg[index].Span.Slice(offset, value.Length) : default;
        // v ← αv + (1 − α)g²;  d = √v + ε (centered: √(v − ḡ²) + ε);  θ ← θ − η·g/d (momentum: b ← μb + g/d, θ ← θ − η·b)
        TensorOps.RmsPropStep(value, grad, v, b, gAvg, LearningRate, Alpha, Eps, WeightDecay, Momentum, Centered);
    }

    public override string ToString() => $"RMSProp(lr={LearningRate}, alpha={Alpha}, eps={Eps}, momentum={Momentum}, centered={Centered})";
}
