using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Activations;

/// <summary>
/// Softmax over the last dimension: yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m), m = maxⱼ xⱼ (the shift cancels and keeps
/// every exponent ≤ 0, so large logits cannot overflow). Input (…, C).
/// </summary>
/// <remarks>
/// Backward: ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ), so dxⱼ = Σᵢ dyᵢ·yᵢ(δᵢⱼ − yⱼ) = yⱼ·(dyⱼ − ⟨dy, y⟩).
/// For classification, prefer <see cref="Losses.CrossEntropyLoss{T}"/> on logits: the fused gradient p − onehot is cheaper
/// and more accurate than softmax followed by a log.
/// </remarks>
public sealed class Softmax<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m) over the last dimension; (…, C) → (…, C), overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank == 0) throw new ShapeMismatchException("Softmax.Forward: input () is a scalar; softmax needs a last dimension.");
        var y = Reuse(ref _output, input.Shape);
        // yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)
        TensorOps.Softmax(input, y);
        return y;
    }

    /// <summary>dx = y ⊙ (dy − ⟨dy, y⟩), the inner product taken over the last dimension, from the saved output.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dx = y ⊙ (dy − ⟨dy, y⟩)
        TensorOps.SoftmaxBackward(_output!, gradOutput, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => "Softmax(dim=-1)";
}
