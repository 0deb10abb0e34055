using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// A named, deliberately wrong backward pass, for learning what a gradient check catches: each is a variant of one
/// layer (a <see cref="BuggyModule{T, TLayer}"/> or, for the loss, <see cref="CrossEntropyLossWithoutMean{T}"/>) with one
/// classic mistake. <see cref="Apply{T}(Module{T})"/> puts the mistake into every layer of that kind in a model; nothing
/// else in the library builds these variants.
/// </summary>
/// <example><code>
/// var bug = BackwardBug.Find("relu-mask-from-grad")!;
/// var report = GradCheck.Check(bug.Apply(new ReLU&lt;double&gt;()), x, rng);   // fails: relative error about 0.5
/// </code></example>
public sealed class BackwardBug
{
    /// <summary><see cref="Linear{T}"/>'s backward forgets db += Σₙ dy.</summary>
    public const string NoBiasGradient = "no-bias-grad";
    /// <summary><see cref="CrossEntropyLoss{T}"/>'s backward returns dx = p − q, not (p − q)/N: the gradient of the batch's sum, not its mean.</summary>
    public const string CrossEntropyNotAveraged = "ce-not-averaged";
    /// <summary><see cref="Linear{T}"/>'s dW += dyᵀ·y (its output) instead of dyᵀ·x (its input); square layers only.</summary>
    public const string WeightGradientFromOutput = "weight-grad-from-output";
    /// <summary><see cref="Softmax{T}"/>'s dxⱼ = dyⱼ·yⱼ(1 − yⱼ), the Jacobian's diagonal only, instead of yⱼ(dyⱼ − ⟨dy, y⟩).</summary>
    public const string SoftmaxDiagonal = "softmax-diagonal";
    /// <summary><see cref="ReLU{T}"/>'s dx = dy ⊙ [dy &gt; 0], masked by the gradient instead of the input: dy ⊙ [x &gt; 0].</summary>
    public const string ReluMaskFromGradient = "relu-mask-from-grad";
    /// <summary><see cref="Sigmoid{T}"/>'s dx = dy ⊙ σ(y)(1 − σ(y)), σ' taken at the output, instead of dy ⊙ y(1 − y).</summary>
    public const string SigmoidDerivativeOfOutput = "sigmoid-derivative-of-output";
    /// <summary><see cref="BatchNorm{T}"/>'s training dx = γ·r·dy, as if the batch mean and variance were constants.</summary>
    public const string BatchNormConstantStatistics = "batchnorm-constant-stats";

    private BackwardBug(string name, string layer, string mistake, string symptom)
    {
        Name = name;
        Layer = layer;
        Mistake = mistake;
        Symptom = symptom;
    }

    /// <summary>The name the command line takes: <c>nn gradcheck --bug NAME</c>.</summary>
    public string Name { get; }

    /// <summary>The layer (or loss) whose backward is wrong.</summary>
    public string Layer { get; }

    /// <summary>The mistake, in one line with its formula.</summary>
    public string Mistake { get; }

    /// <summary>Why the gradient check's numbers reveal it, in one line.</summary>
    public string Symptom { get; }

    /// <summary>Every bug, in the order of the tables.</summary>
    public static IReadOnlyList<BackwardBug> All { get; } =
    [
        new(NoBiasGradient, "Linear",
            "backward forgets db += Σₙ dy; dW and dx are right",
            "the bias rows are exactly 1: the analytic gradient is 0, and ‖0 − n‖/(‖0‖ + ‖n‖) = 1; no other row changes, since db feeds nothing else"),
        new(CrossEntropyNotAveraged, "CrossEntropyLoss",
            "dx = p − q instead of (p − q)/N: the gradient of the batch's sum while the loss is its mean",
            "every row behind the loss is (N − 1)/(N + 1), 5/7 ≈ 0.71 for the 6-row batch and 4/6 ≈ 0.67 for the 5-row MLP: analytic = N × numeric, and ‖Nn − n‖/(‖Nn‖ + ‖n‖) = (N − 1)/(N + 1)"),
        new(WeightGradientFromOutput, "Linear",
            "dW += dyᵀ·y (the layer's output) instead of dyᵀ·x (its input); runs only where in = out",
            "only the weight row of the square layer fails, by an error of order 1: dyᵀ·y has the right shape but no relation to dyᵀ·x; in a non-square layer (out, out) cannot even be added to W's (out, in) gradient, so the shapes catch it first"),
        new(SoftmaxDiagonal, "Softmax",
            "dxⱼ = dyⱼ·yⱼ(1 − yⱼ), the Jacobian's diagonal only; right is yⱼ(dyⱼ − ⟨dy, y⟩)",
            "the Softmax input row fails, by tenths, and no other (no other row has a Softmax): the dropped terms −yⱼ·Σ_{i≠j} dyᵢyᵢ, every other output's pull through the shared denominator, are a large share of each entry"),
        new(ReluMaskFromGradient, "ReLU",
            "dx = dy ⊙ [dy > 0] instead of dy ⊙ [x > 0]",
            "the ReLU row and every row before a ReLU in the MLP fail, by about a half: [dy > 0] agrees with [x > 0] on only about half the entries, since dy knows nothing of the sign of x; rows after the last ReLU pass"),
        new(SigmoidDerivativeOfOutput, "Sigmoid",
            "dx = dy ⊙ σ'(y) = dy ⊙ σ(y)(1 − σ(y)) instead of dy ⊙ y(1 − y)",
            "the Sigmoid row fails, by about a tenth: for y in (0, 1), σ(y)(1 − σ(y)) stays between 0.197 and 0.25 while y(1 − y) falls to 0 as the unit saturates; the two agree only near y ≈ 0.4 and y ≈ 0.66, so the error comes from the entries with large |x|"),
        new(BatchNormConstantStatistics, "BatchNorm",
            "training backward dx = γ·r·dy, as if the batch mean and variance were constants; right is γ·r·(dy − Σ dy/m − x̂·Σ dy·x̂/m)",
            "the input rows of the training-mode BatchNorms fail, by about √(2/m)/(1 + √(1 − 2/m)) for m values per channel (0.32 for m = 6, 0.10 for m = 48): the missing terms are dy's projections onto the constant and x̂ directions, a share √(2/m) of a random dy; γ, β and the evaluation-mode row pass, since there μ and σ² really are constants"),
    ];

    /// <summary>The bug named <paramref name="name"/>, or null.</summary>
    public static BackwardBug? Find(string name) => All.FirstOrDefault(b => b.Name == name);

    /// <summary>
    /// <paramref name="module"/> with this bug in every layer of its kind: a wrapped layer, or a <see cref="Sequential{T}"/>
    /// rebuilt around wrapped children (same parameter objects and names). Other modules come back unchanged; so does a
    /// non-square <see cref="Linear{T}"/> for <see cref="WeightGradientFromOutput"/>.
    /// </summary>
    public Module<T> Apply<T>(Module<T> module) where T : unmanaged, IFloatingPointIeee754<T> => (Name, module) switch
    {
        (_, Sequential<T> s) => Apply(s),
        (NoBiasGradient, Linear<T> l) when l.Bias is not null => new LinearWithoutBiasGradient<T>(l, this),
        (WeightGradientFromOutput, Linear<T> l) when l.InFeatures == l.OutFeatures => new LinearWeightGradientFromOutput<T>(l, this),
        (SoftmaxDiagonal, Softmax<T> s) => new SoftmaxDiagonalOnly<T>(s, this),
        (ReluMaskFromGradient, ReLU<T> r) => new ReLUMaskFromGradient<T>(r, this),
        (SigmoidDerivativeOfOutput, Sigmoid<T> s) => new SigmoidDerivativeOfOutput<T>(s, this),
        (BatchNormConstantStatistics, BatchNorm<T> b) => new BatchNormConstantStatistics<T>(b, this),
        _ => module,
    };

    /// <summary>A new <see cref="Sequential{T}"/> of the same modules, each through <see cref="Apply{T}(Module{T})"/>.</summary>
    public Sequential<T> Apply<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(model.Modules.Select(Apply).ToArray());

    /// <summary>For <see cref="CrossEntropyNotAveraged"/>, a loss with the same label smoothing and the bug; else <paramref name="loss"/>.</summary>
    public CrossEntropyLoss<T> Apply<T>(CrossEntropyLoss<T> loss) where T : unmanaged, IFloatingPointIeee754<T> =>
        Name == CrossEntropyNotAveraged && loss is not CrossEntropyLossWithoutMean<T> ? new CrossEntropyLossWithoutMean<T>(loss.LabelSmoothing, this) : loss;

    /// <summary>True when the bug changes <paramref name="module"/> or a module inside it.</summary>
    public bool Affects<T>(Module<T> module) where T : unmanaged, IFloatingPointIeee754<T> =>
        module is Sequential<T> s ? s.Modules.Any(Affects) : !ReferenceEquals(Apply(module), module);

    /// <summary>Name, layer and mistake: <c>relu-mask-from-grad (ReLU): dx = dy ⊙ [dy &gt; 0] instead of dy ⊙ [x &gt; 0]</c>.</summary>
    public override string ToString() => $"{Name} ({Layer}): {Mistake}";
}
