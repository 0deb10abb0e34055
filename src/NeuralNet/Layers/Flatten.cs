using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Flattens every dimension after the batch: (N, d₁, …, d_r) → (N, d₁·…·d_r), as PyTorch's <c>nn.Flatten()</c>
/// (start_dim = 1).
/// </summary>
/// <remarks>
/// Row-major storage already lays each sample out contiguously, so both directions are views (no copy):
/// forward returns the input's storage reshaped, backward returns dy's storage with the input's shape
/// (the identity map has the identity Jacobian). The view objects are cached, so a steady-state step allocates
/// nothing. Writing through the returned view writes the input.
/// </remarks>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradOutput;
    private Tensor<T>? _gradInput;

    /// <summary>(N, …) → (N, prod(…)): a view of <paramref name="input"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank < 2)
            throw new ShapeMismatchException($"Flatten.Forward: input {input.Shape} needs a batch dimension and at least one more.");
        if (!ReferenceEquals(input, _input) || _output is null)
        {
            _output = input.Reshape(input.Shape[0], input.RowLength);
            _input = input;
            _gradOutput = _gradInput = null;
        }
        return _output;
    }

    /// <summary>dy (N, prod(…)) viewed with the input's shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        if (!ReferenceEquals(gradOutput, _gradOutput) || _gradInput is null)
        {
            _gradInput = gradOutput.Reshape(_input!.Shape.ToArray());
            _gradOutput = gradOutput;
        }
        return _gradInput;
    }

    /// <inheritdoc/>
    public override string ToString() => "Flatten(start_dim=1, end_dim=-1)";
}
