using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Batch normalization over image channels: y = (x − E[x]) / √(Var[x] + ε) · γ + β, statistics per channel over
/// N·H·W values. The math, backward and running statistics are in <see cref="BatchNorm{T}"/>.
/// </summary>
/// <remarks>
/// Args: num_features C, eps (default 1e-5), momentum (default 0.1). Shapes: x (N, C, H, W); y the same.
/// Attributes: weight γ (C) = 1, bias β (C) = 0; buffers running_mean (C) = 0, running_var (C) = 1.
/// </remarks>
/// <example><code>
/// var block = new Sequential&lt;float&gt;(new Conv2d&lt;float&gt;(1, 32, 3, padding: 1), new BatchNorm2d&lt;float&gt;(32), new ReLU&lt;float&gt;());
/// </code></example>
public sealed class BatchNorm2d<T> : BatchNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer: γ = 1, β = 0, running_mean = 0, running_var = 1.</summary>
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1) : base(numFeatures, eps, momentum) { }

    private protected override int SpatialSize(Tensor<T> input)
    {
        if (input.Rank != 4 || input.Shape[1] != NumFeatures)
            throw new ShapeMismatchException($"BatchNorm2d.Forward: input {input.Shape} does not match num_features {NumFeatures}: expected (N, {NumFeatures}, H, W).");
        return input.Shape[2] * input.Shape[3];
    }
}
