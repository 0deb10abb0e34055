using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="ReLU{T}"/> whose backward takes its mask from the upstream gradient instead of the input:
/// dx = dy ⊙ [dy &gt; 0] = max(dy, 0) where dx = dy ⊙ [x &gt; 0] is right. Bug <see cref="BackwardBug.ReluMaskFromGradient"/>.
/// </summary>
public sealed class ReLUMaskFromGradient<T> : BuggyModule<T, ReLU<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _gradInput;

    internal ReLUMaskFromGradient(ReLU<T> layer, BackwardBug bug) : base(layer, bug) { }

    /// <summary>BUG: dx = dy ⊙ [dy &gt; 0] = max(dy, 0), where dy ⊙ [x &gt; 0] is right; same shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // BUG: dx = dy ⊙ [dy > 0] = max(dy, 0): the mask should be [x > 0], which dy knows nothing about.
        TensorOps.Relu(gradOutput, dx);
        return dx;
    }
}
