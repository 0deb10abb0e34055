using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Batch normalization over features: y = (x − E[x]) / √(Var[x] + ε) · γ + β, statistics per feature over the batch
/// (and over L for (N, C, L) input). The math, backward and running statistics are in <see cref="BatchNorm{T}"/>.
/// </summary>
/// <remarks>
/// Args: num_features C, eps (default 1e-5), momentum (default 0.1). Shapes: x (N, C) or (N, C, L); y the same.
/// Attributes: weight γ (C) = 1, bias β (C) = 0; buffers running_mean (C) = 0, running_var (C) = 1.
/// </remarks>
/// <example><code>
/// var model = new Sequential&lt;float&gt;(new Linear&lt;float&gt;(784, 128), new BatchNorm1d&lt;float&gt;(128), new ReLU&lt;float&gt;());
/// </code></example>
public sealed class BatchNorm1d<T> : BatchNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer: γ = 1, β = 0, running_mean = 0, running_var = 1.</summary>
    public BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1) : base(numFeatures, eps, momentum) { }

    private protected override int SpatialSize(Tensor<T> input)
    {
        if ((input.Rank != 2 && input.Rank != 3) || input.Shape[1] != NumFeatures)
            throw new ShapeMismatchException($"BatchNorm1d.Forward: input {input.Shape} does not match num_features {NumFeatures}: expected (N, {NumFeatures}) or (N, {NumFeatures}, L).");
        return input.Rank == 2 ? 1 : input.Shape[2];
    }
}
