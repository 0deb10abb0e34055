using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Losses;

/// <summary>
/// A loss: the last module of a training graph. <see cref="Forward"/> reduces a batch of predictions and targets to
/// one scalar L; <see cref="Backward"/> returns ∂L/∂input (the gradient that starts backpropagation), with the
/// input's shape. Losses average over the batch, so gradients do not grow with the batch size.
/// </summary>
public abstract class Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Computes the scalar loss and saves what <see cref="Backward"/> needs.</summary>
    public abstract T Forward(Tensor<T> input, Tensor<T> target);

    /// <summary>∂L/∂input for the last <see cref="Forward"/>. The returned tensor is the loss's own buffer.</summary>
    public abstract Tensor<T> Backward();

    /// <summary>The tensor of <paramref name="shape"/> held in <paramref name="buffer"/>, reallocated only when the shape changes.</summary>
    protected static Tensor<T> Reuse(ref Tensor<T>? buffer, Shape shape)
    {
        if (buffer is null || buffer.Shape != shape) buffer = new Tensor<T>(shape);
        return buffer;
    }
}
