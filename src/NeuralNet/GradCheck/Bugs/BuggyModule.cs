using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// A layer with a deliberately wrong backward pass: <see cref="Forward"/> is the wrapped layer's own, Backward is the
/// subclass's, with one mistake in it. The parameters and buffers are the layer's own tensors under the same names
/// ("weight", "bias", "running_mean"), so a gradient check, an optimizer or <see cref="Module{T}.ZeroGrad"/> sees exactly
/// what it would see without the wrapper. Built only by <see cref="BackwardBug.Apply{T}(Module{T})"/>.
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
/// <typeparam name="TLayer">The layer whose backward is replaced.</typeparam>
public abstract class BuggyModule<T, TLayer> : Module<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TLayer : Module<T>
{
    private protected BuggyModule(TLayer layer, BackwardBug bug)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = layer;
        Bug = bug;
        Train(layer.IsTraining);
    }

    /// <summary>The wrapped layer: it computes the forward pass and owns the parameters.</summary>
    public TLayer Layer { get; }

    /// <summary>The mistake this module's backward makes.</summary>
    public BackwardBug Bug { get; }

    /// <summary>x of the last <see cref="Forward"/>.</summary>
    private protected Tensor<T>? Input { get; private set; }

    /// <summary>y of the last <see cref="Forward"/> (the layer's buffer).</summary>
    private protected Tensor<T>? Output { get; private set; }

    /// <summary>The layer's forward; x and y are kept for the (wrong) backward.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        // NOTE: Train/Eval reach this module, not the layer it hides (it is no child, so names stay "weight", not "0.weight").
        if (Layer.IsTraining != IsTraining) Layer.Train(IsTraining);
        Input = input;
        Output = Layer.Forward(input);
        return Output;
    }

    /// <summary>The wrapped layer's parameters under its own names ("weight", "bias").</summary>
    protected override IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters() => Layer.NamedParameters();

    /// <summary>The wrapped layer's buffers under its own names ("running_mean", "running_var").</summary>
    protected override IEnumerable<(string Name, Tensor<T> Buffer)> LocalBuffers() => Layer.NamedBuffers();

    /// <summary>The layer's description and the bug: <c>ReLU() [bug: relu-mask-from-grad]</c>.</summary>
    public override string ToString() => $"{Layer} [bug: {Bug.Name}]";
}
