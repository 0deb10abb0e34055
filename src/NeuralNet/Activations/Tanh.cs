using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Activations;

/// <summary>
/// Hyperbolic tangent: y = tanh(x). Any shape.
/// Backward: tanh'(x) = 1 − tanh²(x), so dx = dy ⊙ (1 − y²) from the saved output.
/// </summary>
public sealed class Tanh<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>y = tanh(x); same shape, overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = Reuse(ref _output, input.Shape);
        // y = tanh(x)
        TensorOps.Tanh(input, y);
        return y;
    }

    /// <summary>dx = dy ⊙ (1 − y²), from the saved output.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dx = dy ⊙ (1 − y²)
        TensorOps.TanhBackward(_output!, gradOutput, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => "Tanh()";
}
