using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Activations;

/// <summary>
/// Logistic sigmoid: y = σ(x) = 1 / (1 + e^(−x)). Any shape.
/// Backward: σ'(x) = e^(−x)/(1 + e^(−x))² = σ(x)(1 − σ(x)), so dx = dy ⊙ y ⊙ (1 − y) from the saved output.
/// </summary>
public sealed class Sigmoid<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>y = 1 / (1 + e^(−x)); same shape, overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = Reuse(ref _output, input.Shape);
        // y = 1 / (1 + e^(−x))
        TensorOps.Sigmoid(input, y);
        return y;
    }

    /// <summary>dx = dy ⊙ y ⊙ (1 − y), from the saved output.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dx = dy ⊙ y ⊙ (1 − y)
        TensorOps.SigmoidBackward(_output!, gradOutput, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => "Sigmoid()";
}
