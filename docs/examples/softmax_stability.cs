// Why softmax and cross-entropy are fused: three ways to compute the loss of logits (1000, −1000, 0), in float32 as
// training does. Run from the repository root: dotnet run docs/examples/softmax_stability.cs
#:project ../../src/NeuralNet/NeuralNet.csproj
using System.Globalization;
using NeuralNet.Activations;
using NeuralNet.Losses;
using NeuralNet.Tensors;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
float[] logits = [1000f, -1000f, 0f];
string Row(IEnumerable<float> v) => "(" + string.Join(", ", v.Select(x => x.ToString("G4"))) + ")";

Console.WriteLine($"logits x = {Row(logits)}");
Console.WriteLine();
Console.WriteLine("| label | naive exp(x)/Σexp(x), −log p | stable softmax, then −log p | fused CrossEntropyLoss | fused gradient p − onehot |");
Console.WriteLine("|---:|---|---|---|---|");
for (int label = 0; label < 2; label++)
{
    // 1. Naive: e^1000 overflows float (max ≈ 3.4e38), so p = ∞/∞ = NaN or 0/∞ = 0.
    float[] e = logits.Select(MathF.Exp).ToArray();
    float[] naive = e.Select(v => v / e.Sum()).ToArray();
    float naiveLoss = -MathF.Log(naive[label]);

    // 2. Stable softmax (the row maximum subtracted: every exponent ≤ 0), then the log: p underflows to exactly 0.
    var x = Tensor<float>.FromArray(logits, 1, 3);
    var p = new Softmax<float>().Forward(x);
    float stableLoss = 0 - MathF.Log(p[0, label]);

    // 3. Fused: −log p_label = lse(x) − x_label with lse(x) = m + log Σ e^(x − m); dx = p − onehot.
    var ce = new CrossEntropyLoss<float>();
    float fusedLoss = ce.Forward(x, [label]);
    var g = ce.Backward();
    Console.WriteLine($"| {label} | p = {Row(naive)}, loss {naiveLoss} | p = {Row(p.ToArray())}, loss {stableLoss} | loss {fusedLoss} | {Row(g.ToArray())} |");
}

// The unfused gradient reaches the same numbers only through the softmax's Jacobian and a division by p:
// dL/dp = −onehot/p, then dx = p ⊙ (dL/dp − ⟨dL/dp, p⟩). At ±1000 the division is −1/0.
var moderate = Tensor<float>.FromArray([2f, -1f, 0.5f], 1, 3);
var softmax = new Softmax<float>();
var probabilities = softmax.Forward(moderate);
var dp = Tensor<float>.FromArray([0f, -1f / probabilities[0, 1], 0f], 1, 3);
var unfused = softmax.Backward(dp);
var fused = new CrossEntropyLoss<float>();
fused.Forward(moderate, [1]);
Console.WriteLine();
Console.WriteLine($"logits {Row(moderate.ToArray())}, label 1: unfused dx = {Row(unfused.ToArray())}, fused p − onehot = {Row(fused.Backward().ToArray())}");
var extreme = softmax.Forward(Tensor<float>.FromArray(logits, 1, 3));
var dpExtreme = Tensor<float>.FromArray([0f, -1f / extreme[0, 1], 0f], 1, 3);
Console.WriteLine($"logits {Row(logits)}, label 1: dL/dp = {Row(dpExtreme.ToArray())}, unfused dx = {Row(softmax.Backward(dpExtreme).ToArray())}");
