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

    /// <summary>SGD over <paramref name="parameters"/>; every state buffer is allocated here.</summary>
    /// <param name="parameters">The parameters to update (at least one).</param>
    /// <param name="learningRate">η, finite and ≥ 0.</param>
    /// <param name="momentum">μ ≥ 0 (default 0: no momentum buffer).</param>
    /// <param name="dampening">τ in [0, 1] (default 0): the momentum buffer takes (1 − τ)·g.</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0), the L2 term added to the gradient.</param>
    /// <param name="nesterov">Nesterov momentum (default false); needs μ &gt; 0 and τ = 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    /// <exception cref="ArgumentException"><paramref name="nesterov"/> is true with μ = 0 or τ ≠ 0.</exception>
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

    /// <summary>μ, the momentum factor (≥ 0; 0 is plain SGD).</summary>
    public double Momentum { get; }

    /// <summary>τ in [0, 1]: the momentum buffer adds (1 − τ)·g after the first step.</summary>
    public double Dampening { get; }

    /// <summary>λ ≥ 0, the L2 penalty: λ·θ is added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <summary>True for Nesterov momentum, g ← g + μ·b; false for classical momentum, g ← b.</summary>
    public bool Nesterov { get; }

    /// <summary>lr, momentum, dampening, weight_decay and nesterov (1 or 0).</summary>
    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate, ["momentum"] = Momentum, ["dampening"] = Dampening, ["weight_decay"] = WeightDecay, ["nesterov"] = Nesterov ? 1 : 0,
    };

    /// <summary>The momentum buffers b, "momentum_buffer.i" for parameter i, each shaped like it; empty when μ = 0.</summary>
    public override IReadOnlyList<(string Name, Tensor<T> Tensor)> State() => _momentum.Select((t, i) => ($"momentum_buffer.{i}", t)).ToArray();

    /// <summary>g = ∇θ + λθ; b ← g (t = 1) or μ·b + (1 − τ)·g; θ ← θ − η·(g + μ·b) (Nesterov) or θ − η·b; with μ = 0, θ ← θ − η·g.</summary>
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

    /// <summary>PyTorch style: <c>SGD(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0)</c>.</summary>
    public override string ToString() => $"SGD(lr={LearningRate}, momentum={Momentum}, nesterov={Nesterov}, weight_decay={WeightDecay})";
}
