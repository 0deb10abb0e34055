using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="Softmax{T}"/> whose backward keeps only the diagonal of the Jacobian ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ):
/// dxⱼ = dyⱼ·yⱼ(1 − yⱼ), as if each output depended on its own input only. The right dxⱼ = yⱼ(dyⱼ − ⟨dy, y⟩) also
/// carries −yⱼ·Σ_{i≠j} dyᵢyᵢ: every input moves every output through the shared denominator.
/// Bug <see cref="BackwardBug.SoftmaxDiagonal"/>.
/// </summary>
public sealed class SoftmaxDiagonalOnly<T> : BuggyModule<T, Softmax<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _gradInput;

    internal SoftmaxDiagonalOnly(Softmax<T> layer, BackwardBug bug) : base(layer, bug) { }

    /// <summary>BUG: dxⱼ = dyⱼ·yⱼ(1 − yⱼ), the Jacobian's diagonal only, where yⱼ(dyⱼ − ⟨dy, y⟩) is right; same shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // BUG: dx = dy ⊙ y ⊙ (1 − y), the diagonal alone (the same formula as the sigmoid's, so its kernel computes it).
        TensorOps.SigmoidBackward(Output!, gradOutput, dx);
        return dx;
    }
}
