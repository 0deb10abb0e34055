// Why Xavier or He initialization: the spread of the activations (forward) and of the gradients (backward) through ten
// 256-unit ReLU layers, for 512 inputs x ~ N(0, 1) and a random upstream gradient.
// Run from the repository root: dotnet run docs/examples/init_variance.cs
#:project ../../src/NeuralNet/NeuralNet.csproj
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.Init;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using InitFns = NeuralNet.Init.Init;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int Depth = 10, Width = 256, Batch = 512;
(string Name, Initializer Init)[] schemes =
[
    ("naive N(0, 0.01²)", InitFns.Parse("naive")),
    ("Xavier uniform, Var = 2/(in + out)", InitFns.XavierUniform()),
    ("He normal, Var = 2/in", InitFns.HeNormal()),
];

static double Std(Tensor<double> t)
{
    double sum = 0, squares = 0;
    foreach (double v in t.ReadOnlySpan) { sum += v; squares += v * v; }
    double mean = sum / t.Length;
    return Math.Sqrt(squares / t.Length - mean * mean);
}

Console.WriteLine($"std of the activations after each Linear+ReLU layer (forward) and of ∂L/∂x entering it (backward); {Depth} layers of {Width}, batch {Batch}");
Console.WriteLine();
Console.WriteLine("| initialization | pass | " + string.Join(" | ", Enumerable.Range(1, Depth).Select(i => $"layer {i}")) + " |");
Console.WriteLine("|---|---|" + string.Concat(Enumerable.Repeat("---:|", Depth)));
foreach (var (name, init) in schemes)
{
    var rng = new Rng(1);
    var layers = new List<Module<double>>();
    for (int i = 0; i < Depth; i++) { layers.Add(new Linear<double>(Width, Width, init, rng: rng)); layers.Add(new ReLU<double>()); }
    var x = Tensor<double>.RandomNormal(new Rng(2), 0, 1, Batch, Width);
    var forward = new List<double>();
    foreach (var layer in layers)
    {
        x = layer.Forward(x);
        if (layer is ReLU<double>) forward.Add(Std(x));
    }
    var g = Tensor<double>.RandomNormal(new Rng(3), 0, 1, Batch, Width);
    var backward = new double[Depth];
    for (int i = layers.Count - 1; i >= 0; i--)
    {
        g = layers[i].Backward(g);
        if (layers[i] is Linear<double>) backward[i / 2] = Std(g);
    }
    Console.WriteLine($"| {name} | forward | " + string.Join(" | ", forward.Select(v => v.ToString("G3"))) + " |");
    Console.WriteLine($"| | backward | " + string.Join(" | ", backward.Select(v => v.ToString("G3"))) + " |");
}
