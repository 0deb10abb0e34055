using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>MAE = (1/M) Σᵢ |yᵢ − tᵢ| over all M output elements (output and targets (B, K)).</summary>
public sealed class MeanAbsoluteError<T> : Metric<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private double _sum;
    private long _count;

    /// <inheritdoc/>
    public override string Name => "mae";

    /// <inheritdoc/>
    public override bool HigherIsBetter => false;

    /// <inheritdoc/>
    public override void Reset() => (_sum, _count) = (0, 0);

    /// <summary>Adds Σᵢ |yᵢ − tᵢ| and the element count; output y and the batch's targets t: (B, K).</summary>
    public override void Update(Tensor<T> output, in Batch<T> batch)
    {
        ReadOnlySpan<T> y = output.ReadOnlySpan, t = TargetsOf(output, batch).ReadOnlySpan;
        for (int i = 0; i < y.Length; i++) _sum += Math.Abs(double.CreateChecked(y[i] - t[i]));
        _count += y.Length;
    }

    /// <summary>(1/M)·Σᵢ |yᵢ − tᵢ| over the M elements seen since the last <see cref="Reset"/>; NaN before any.</summary>
    public override double Value => _count == 0 ? double.NaN : _sum / _count;
}
