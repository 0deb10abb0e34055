using System.Numerics;
using System.Runtime.Intrinsics;
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
        T lr = T.CreateChecked(LearningRate), wd = T.CreateChecked(WeightDecay), mu = T.CreateChecked(Momentum);
        T keep = T.One - T.CreateChecked(Dampening);
        bool first = StepCount == 1;
        Span<T> buf = Momentum > 0 ? _momentum[index].Span.Slice(offset, value.Length) : default;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vlr = Vector256.Create(lr);
            var vwd = Vector256.Create(wd);
            var vmu = Vector256.Create(mu);
            var vkeep = Vector256.Create(keep);
            for (; i <= value.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var th = Vector256.Create((ReadOnlySpan<T>)value.Slice(i));
                var g = Vector256.Create(grad.Slice(i)) + vwd * th;
                if (Momentum > 0)
                {
                    var b = first ? g : vmu * Vector256.Create((ReadOnlySpan<T>)buf.Slice(i)) + vkeep * g;
                    b.CopyTo(buf.Slice(i));
                    g = Nesterov ? g + vmu * b : b;
                }
                (th - vlr * g).CopyTo(value.Slice(i));
            }
        }
        for (; i < value.Length; i++)
        {
            T g = grad[i] + wd * value[i];
            if (Momentum > 0)
            {
                T b = first ? g : mu * buf[i] + keep * g;
                buf[i] = b;
                g = Nesterov ? g + mu * b : b;
            }
            value[i] -= lr * g;
        }
    }

    public override string ToString() => $"SGD(lr={LearningRate}, momentum={Momentum}, nesterov={Nesterov}, weight_decay={WeightDecay})";
}
