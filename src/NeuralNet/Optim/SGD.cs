using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay (PyTorch's semantics).
/// <code>
///   g ← ∇θ + λ·θ                                  (weight decay λ)
///   b ← g at t = 1,  μ·b + (1 − τ)·g after        (momentum μ, dampening τ)
///   g ← g + μ·b  (Nesterov)   or   g ← b          (classical momentum)
///   θ ← θ − η·g
/// </code>
/// With μ = 0 this is plain θ ← θ − η·(∇θ + λθ). Sutskever et al. (2013) for the Nesterov form.
/// </summary>
public sealed class SGD<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _momentum;

    public SGD(IEnumerable<Parameter<T>> parameters, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate)
    {
        Require(momentum >= 0, nameof(momentum), momentum, "≥ 0");
        Require(dampening >= 0 && dampening <= 1, nameof(dampening), dampening, "in [0, 1]");
        Require(weightDecay >= 0, nameof(weightDecay), weightDecay, "≥ 0");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening = 0.");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentum = momentum > 0 ? ZerosLikeParameters() : [];
    }

    public double Momentum { get; }

    public double Dampening { get; }

    public double WeightDecay { get; }

    public bool Nesterov { get; }

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["momentum"] = Momentum, ["dampening"] = Dampening, ["weight_decay"] = WeightDecay, ["nesterov"] = Nesterov ? 1 : 0,
    };

    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() => _momentum.Select((t, i) => ($"momentum_buffer.{i}", t)).ToArray();

    protected override void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad)
    {
        if (Momentum == 0)
        {
            // θ ← θ − η·(∇θ + λθ)
            TensorOps.SgdStep(value, grad, LearningRate, WeightDecay);
            return;
        }
        // g = ∇θ + λθ;  b ← g (t = 1) or μ·b + (1 − τ)·g;  θ ← θ − η·(g + μ·b) (Nesterov) or θ − η·b
        Span<T> b = _momentum[index].Span.Slice(offset, value.Length);
        TensorOps.SgdMomentumStep(value, grad, b, LearningRate, WeightDecay, Momentum, Dampening, Nesterov, firstStep: StepCount == 1);
    }

    public override string ToString() => $"SGD(lr={LearningRate}, momentum={Momentum}, nesterov={Nesterov}, weight_decay={WeightDecay})";
}
