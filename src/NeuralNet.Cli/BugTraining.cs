using NeuralNet.Activations;
using NeuralNet.GradCheck.Bugs;
using NeuralNet.Init;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Cli;

/// <summary>
/// <c>nn train --bug NAME</c>: what a bug does to training, for those who skip the gradient check. Each bug trains the
/// smallest MLP that contains its layer, built from the same seed as <see cref="ModelFactory"/>'s (so the layers it
/// shares with the default MLP start from the same weights); <c>--control</c> trains the same model without the bug.
/// </summary>
internal static class BugTraining
{
    /// <summary>Epochs of a bug run unless --epochs is given.</summary>
    public const int Epochs = 3;

    /// <summary>The bug named <paramref name="name"/>; an unknown name is a one-line error listing the known ones.</summary>
    public static BackwardBug Find(string name) => BackwardBug.Find(name)
        ?? throw new CliException($"unknown bug '{name}' (known: {string.Join(", ", BackwardBug.All.Select(b => b.Name))})");

    /// <summary>Hidden sizes when --hidden is not given: the default 128,64, or 128,128 for a bug that needs a square layer.</summary>
    public static int[] DefaultHidden(BackwardBug bug) => bug.Name == BackwardBug.WeightGradientFromOutput ? [128, 128] : [128, 64];

    /// <summary>What the bug's model is, and why that one.</summary>
    public static string Describe(BackwardBug bug) => bug.Name switch
    {
        BackwardBug.WeightGradientFromOutput => "the MLP with two 128-unit hidden layers: the bug needs a square Linear (in = out), here the 128→128 one",
        BackwardBug.SoftmaxDiagonal => "the MLP with Softmax → Log after its last layer: an unfused log-softmax, so cross-entropy's gradient runs through the Softmax's backward (same loss as the fused model)",
        BackwardBug.SigmoidDerivativeOfOutput => "the MLP with Sigmoid in place of ReLU",
        BackwardBug.BatchNormConstantStatistics => "the MLP with BatchNorm1d between each hidden Linear (no bias) and its ReLU",
        _ => "the default MLP",
    };

    /// <summary>The model of <paramref name="bug"/>'s experiment with correct layers (apply the bug with <see cref="BackwardBug.Apply{T}(Sequential{T})"/>).</summary>
    public static Sequential<float> Build(BackwardBug bug, int inputs, int classes, IReadOnlyList<int> hidden, Initializer init, ulong seed)
    {
        var rng = new Rng(seed);
        bool batchNorm = bug.Name == BackwardBug.BatchNormConstantStatistics;
        var layers = new List<Module<float>>();
        int width = inputs;
        foreach (int h in hidden)
        {
            // Same draws as ModelFactory's MLP: the weights come from rng in this order; biases start at 0 without a draw.
            layers.Add(new Linear<float>(width, h, init, bias: !batchNorm, rng: rng));
            if (batchNorm) layers.Add(new BatchNorm1d<float>(h));
            layers.Add(bug.Name == BackwardBug.SigmoidDerivativeOfOutput ? new Sigmoid<float>() : new ReLU<float>());
            width = h;
        }
        layers.Add(new Linear<float>(width, classes, init, rng: rng));
        if (bug.Name == BackwardBug.SoftmaxDiagonal)
        {
            layers.Add(new Softmax<float>());
            layers.Add(new Log<float>());
        }
        ((Linear<float>)layers[0]).ComputeInputGradient = false;
        var model = new Sequential<float>(layers.ToArray());
        if (bug.Name == BackwardBug.WeightGradientFromOutput && !model.Modules.OfType<Linear<float>>().Any(l => l.InFeatures == l.OutFeatures))
            throw new CliException($"--bug {bug.Name} needs a square Linear layer (in = out), e.g. --hidden 128,128; --hidden {string.Join(",", hidden)} has none");
        return model;
    }
}
