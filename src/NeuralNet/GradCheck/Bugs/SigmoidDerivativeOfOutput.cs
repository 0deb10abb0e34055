using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="Sigmoid{T}"/> whose backward evaluates σ' at the output as if it were the input: dx = dy ⊙ σ'(y) =
/// dy ⊙ σ(y)(1 − σ(y)), where dx = dy ⊙ σ'(x) = dy ⊙ y(1 − y) is right (σ'(x) = σ(x)(1 − σ(x)) and y = σ(x)).
/// Bug <see cref="BackwardBug.SigmoidDerivativeOfOutput"/>.
/// </summary>
public sealed class SigmoidDerivativeOfOutput<T> : BuggyModule<T, Sigmoid<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _sigmoidOfOutput;
    private Tensor<T>? _gradInput;

    internal SigmoidDerivativeOfOutput(Sigmoid<T> layer, BackwardBug bug) : base(layer, bug) { }

    /// <summary>BUG: dx = dy ⊙ σ(y)(1 − σ(y)), where dy ⊙ y(1 − y) is right; same shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var s = Reuse(ref _sigmoidOfOutput, gradOutput.Shape);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // BUG: s = σ(y), a second sigmoid, then dx = dy ⊙ s ⊙ (1 − s) = dy ⊙ σ'(y); right is dy ⊙ y ⊙ (1 − y) = dy ⊙ σ'(x).
        TensorOps.Sigmoid(Output!, s);
        TensorOps.SigmoidBackward(s, gradOutput, dx);
        return dx;
    }
}
