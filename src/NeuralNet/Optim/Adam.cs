using System.Numerics;
using System.Runtime.Intrinsics;
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
        double t = StepCount;
        double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
        // θ − η·(m/bc1) / (√(v/bc2) + ε) = θ − stepSize·m / (√v/√bc2 + ε)
        T stepSize = T.CreateChecked(LearningRate / bc1), invSqrtBc2 = T.CreateChecked(1 / Math.Sqrt(bc2));
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), eps = T.CreateChecked(Eps);
        T c1 = T.One - b1, c2 = T.One - b2;
        T wd = _decoupled ? T.Zero : T.CreateChecked(WeightDecay);
        if (_decoupled && WeightDecay > 0)
        {
            T shrink = T.One - T.CreateChecked(LearningRate * WeightDecay); // θ ← θ(1 − ηλ)
            System.Numerics.Tensors.TensorPrimitives.Multiply(value, shrink, value);
        }
        Span<T> m = _m[index].Span.Slice(offset, value.Length), v = _v[index].Span.Slice(offset, value.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vb1 = Vector256.Create(b1); var vb2 = Vector256.Create(b2);
            var vc1 = Vector256.Create(c1); var vc2 = Vector256.Create(c2);
            var vwd = Vector256.Create(wd); var veps = Vector256.Create(eps);
            var vstep = Vector256.Create(stepSize); var vinv = Vector256.Create(invSqrtBc2);
            for (; i <= value.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var th = Vector256.Create((ReadOnlySpan<T>)value.Slice(i));
                var g = Vector256.Create(grad.Slice(i)) + vwd * th;
                var mi = vb1 * Vector256.Create((ReadOnlySpan<T>)m.Slice(i)) + vc1 * g;
                var vi = vb2 * Vector256.Create((ReadOnlySpan<T>)v.Slice(i)) + vc2 * g * g;
                mi.CopyTo(m.Slice(i));
                vi.CopyTo(v.Slice(i));
                (th - vstep * mi / (Vector256.Sqrt(vi) * vinv + veps)).CopyTo(value.Slice(i));
            }
        }
        for (; i < value.Length; i++)
        {
            T g = grad[i] + wd * value[i];
            m[i] = b1 * m[i] + c1 * g;
            v[i] = b2 * v[i] + c2 * g * g;
            value[i] -= stepSize * m[i] / (T.Sqrt(v[i]) * invSqrtBc2 + eps);
        }
    }

    public override string ToString() => $"{GetType().Name.Split('`')[0]}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={Eps}, weight_decay={WeightDecay})";
}
