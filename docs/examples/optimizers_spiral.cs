// What momentum and Adam's bias correction buy, on the toy spiral (3 classes, 300 points, a 2-100-3 ReLU net, full-batch
// steps): epochs to 95% training accuracy for each learning rate of a grid, and the size of Adam's first steps with and
// without bias correction. Run from the repository root: dotnet run docs/examples/optimizers_spiral.cs
#:project ../../src/NeuralNet/NeuralNet.csproj
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Training;
using InitFns = NeuralNet.Init.Init;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var data = ToyDatasets.Spirals<double>(100, 3, 0.2, seed: 0);
double[] grid = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0];
const int MaxEpochs = 2000;

static Sequential<double> SpiralNet() => new(
    new Linear<double>(2, 100, InitFns.HeNormal(), rng: new Rng(30)), new ReLU<double>(),
    new Linear<double>(100, 3, InitFns.XavierUniform(), rng: new Rng(31)));

// Full-batch steps until the training accuracy reaches 95%; null when it does not within MaxEpochs (or diverges).
int? EpochsTo95(Func<IReadOnlyList<Parameter<double>>, double, Optimizer<double>> make, double lr)
{
    var model = SpiralNet();
    var loss = new CrossEntropyLoss<double>();
    var optimizer = make(model.Parameters(), lr);
    for (int epoch = 1; epoch <= MaxEpochs; epoch++)
    {
        optimizer.ZeroGrad();
        double l = loss.Forward(model.Forward(data.Features), data.Labels);
        if (!double.IsFinite(l)) return null;
        model.Backward(loss.Backward());
        optimizer.Step();
        if (Trainer.Evaluate(model, loss, data).Accuracy >= 0.95) return epoch;
    }
    return null;
}

(string Name, Func<IReadOnlyList<Parameter<double>>, double, Optimizer<double>> Make)[] optimizers =
[
    ("SGD", (ps, lr) => new SGD<double>(ps, lr)),
    ("SGD + momentum 0.9", (ps, lr) => new SGD<double>(ps, lr, momentum: 0.9)),
    ("Adam", (ps, lr) => new Adam<double>(ps, lr)),
    ("Adam without bias correction", (ps, lr) => new AdamWithoutBiasCorrection(ps, lr)),
];
Console.WriteLine($"epochs to 95% training accuracy on the spiral (full batch; '—': not within {MaxEpochs} epochs or diverged)");
Console.WriteLine();
Console.WriteLine("| optimizer | " + string.Join(" | ", grid.Select(lr => $"lr {lr}")) + " |");
Console.WriteLine("|---|" + string.Concat(grid.Select(_ => "---:|")));
foreach (var (name, make) in optimizers)
    Console.WriteLine($"| {name} | " + string.Join(" | ", grid.Select(lr => EpochsTo95(make, lr)?.ToString() ?? "—")) + " |");

// m and v start at 0: after t steps of a steady gradient g, m = (1 − β₁ᵗ)·g and v = (1 − β₂ᵗ)·g², so without the
// correction a step is η·(1 − β₁ᵗ)/√(1 − β₂ᵗ) instead of η: 3.2η at t = 1, 6.5η at t = 10, 3.2η at t = 100.
Console.WriteLine();
Console.WriteLine("mean |Δθ| / lr of the spiral net's first steps (lr 1e-3):");
Console.WriteLine();
Console.WriteLine("| step | Adam | Adam without bias correction |");
Console.WriteLine("|---:|---:|---:|");
var steps = new[] { 1, 2, 10, 100, 1000 };
var ratios = new Dictionary<string, double[]>();
foreach (var (name, make) in optimizers.Skip(2))
{
    var model = SpiralNet();
    var loss = new CrossEntropyLoss<double>();
    var optimizer = make(model.Parameters(), 1e-3);
    var result = new List<double>();
    for (int t = 1; t <= steps[^1]; t++)
    {
        var before = model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
        optimizer.ZeroGrad();
        loss.Forward(model.Forward(data.Features), data.Labels);
        model.Backward(loss.Backward());
        optimizer.Step();
        if (!steps.Contains(t)) continue;
        var after = model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
        result.Add(after.Zip(before, (a, b) => Math.Abs(a - b)).Average() / 1e-3);
    }
    ratios[name] = result.ToArray();
}
for (int i = 0; i < steps.Length; i++)
    Console.WriteLine($"| {steps[i]} | {ratios["Adam"][i]:F3} | {ratios["Adam without bias correction"][i]:F3} |");

/// <summary>Adam as the library has it, minus the two divisions by 1 − βᵗ: θ ← θ − η·m/(√v + ε).</summary>
sealed class AdamWithoutBiasCorrection : Optimizer<double>
{
    private readonly double[][] _m;
    private readonly double[][] _v;

    public AdamWithoutBiasCorrection(IEnumerable<Parameter<double>> parameters, double learningRate) : base(parameters, learningRate)
    {
        _m = Parameters.Select(p => new double[p.Value.Length]).ToArray();
        _v = Parameters.Select(p => new double[p.Value.Length]).ToArray();
    }

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double> { ["lr"] = LearningRate };

    public override IReadOnlyList<(string Name, Tensor<double> Tensor)> State() => [];

    protected override void Update(int index, int offset, Span<double> value, ReadOnlySpan<double> grad)
    {
        Span<double> m = _m[index].AsSpan(offset, value.Length), v = _v[index].AsSpan(offset, value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            m[i] = 0.9 * m[i] + 0.1 * grad[i];                // m ← β₁m + (1 − β₁)g
            v[i] = 0.999 * v[i] + 0.001 * grad[i] * grad[i];  // v ← β₂v + (1 − β₂)g²
            value[i] -= LearningRate * m[i] / (Math.Sqrt(v[i]) + 1e-8);  // no m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
        }
    }
}
