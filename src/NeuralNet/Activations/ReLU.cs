using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Activations;

/// <summary>
/// Rectified linear unit: y = max(x, 0). Any shape.
/// Backward: dx = dy ⊙ [y &gt; 0]. The derivative at exactly 0 is taken as 0 (as PyTorch);
/// the mask is read from the saved output, so no copy of x is kept.
/// </summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>y = max(x, 0); same shape, overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = Reuse(ref _output, input.Shape);
        // y = max(x, 0)
        TensorOps.Relu(input, y);
        return y;
    }

    /// <summary>
    /// Takes <paramref name="output"/>, already max(0, x) (computed by a <see cref="Layers.BatchNorm{T}"/> before it,
    /// fused), as this layer's output, so that <see cref="Backward"/> masks by it as after <see cref="Forward"/>.
    /// </summary>
    internal Tensor<T> Adopt(Tensor<T> output)
    {
        _output = output;
        return output;
    }

    /// <summary>dx = dy ⊙ [y &gt; 0], from the saved output.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dx = dy ⊙ [y > 0]
        TensorOps.ReluBackward(_output!, gradOutput, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => "ReLU()";
}
