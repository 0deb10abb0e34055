using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>One mini-batch: features (B, …) and B labels. Valid until the loader produces the next batch.</summary>
public readonly struct Batch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _labels;
    private readonly int _labelOffset;

    internal Batch(int index, Tensor<T> features, int[] labels, int labelOffset, Tensor<T>? targets = null)
    {
        Targets = targets;
        Index = index;
        Features = features;
        _labels = labels;
        _labelOffset = labelOffset;
    }

    /// <summary>Position of the batch in its epoch, from 0.</summary>
    public int Index { get; }

    /// <summary>The samples, shape (B, …).</summary>
    public Tensor<T> Features { get; }

    /// <summary>Number of samples B.</summary>
    public int Size => Features.Rows;

    /// <summary>Regression targets (B, K); null for a classification data set.</summary>
    public Tensor<T>? Targets { get; }

    /// <summary>The B labels.</summary>
    public ReadOnlySpan<int> Labels => _labels.AsSpan(_labelOffset, Size);
}
