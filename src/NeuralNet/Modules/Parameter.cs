using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Modules;

/// <summary>
/// A learnable tensor and its gradient, which has the same shape. Backward passes accumulate into
/// <see cref="Grad"/> (<c>+=</c>), so a parameter used twice collects both contributions; <see cref="ZeroGrad"/> clears it.
/// </summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Wraps <paramref name="value"/> (not copied) with a zero gradient.</summary>
    public Parameter(Tensor<T> value)
    {
        Value = value;
        Grad = new Tensor<T>(value.Shape);
    }

    /// <summary>The parameter's current value; optimizers update it in place.</summary>
    public Tensor<T> Value { get; }

    /// <summary>∂loss/∂value, accumulated since the last <see cref="ZeroGrad"/>.</summary>
    public Tensor<T> Grad { get; }

    /// <summary>Shape of the value and the gradient.</summary>
    public Shape Shape => Value.Shape;

    /// <summary>Sets the gradient to zero.</summary>
    public void ZeroGrad() => Grad.Span.Clear();

    /// <summary>The shape, e.g. <c>Parameter(128, 784)</c>.</summary>
    public override string ToString() => $"Parameter{Shape}";
}
