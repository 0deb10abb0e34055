using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Activations;

/// <summary>
/// Leaky ReLU: y = x for x &gt; 0, α·x otherwise (α = negative slope, default 0.01). Any shape.
/// Backward: dx = dy for x &gt; 0, α·dy otherwise. Keeps a reference to x, since for α &lt; 0 the output's sign does not give x's.
/// </summary>
public sealed class LeakyReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>Creates the layer with slope α = <paramref name="negativeSlope"/> for x ≤ 0 (default 0.01; any finite value).</summary>
    public LeakyReLU(double negativeSlope = 0.01)
    {
        if (!double.IsFinite(negativeSlope)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "LeakyReLU: the negative slope must be finite.");
        NegativeSlope = T.CreateChecked(negativeSlope);
    }

    /// <summary>α, the slope for negative inputs.</summary>
    public T NegativeSlope { get; }

    /// <summary>y = x for x &gt; 0, α·x otherwise; same shape, overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _input = input;
        var y = Reuse(ref _output, input.Shape);
        // y = x > 0 ? x : α·x
        TensorOps.LeakyRelu(input, NegativeSlope, y);
        return y;
    }

    /// <summary>dx = dy for x &gt; 0, α·dy otherwise, from the saved x.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dx = x > 0 ? dy : α·dy
        TensorOps.LeakyReluBackward(_input!, gradOutput, NegativeSlope, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU(negative_slope={NegativeSlope})");
}
