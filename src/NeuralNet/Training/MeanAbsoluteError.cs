using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>MAE = (1/M) Σᵢ |yᵢ − tᵢ| over all M output elements (output and targets (B, K)).</summary>
public sealed class MeanAbsoluteError<T> : Metric<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private double _sum;
    private long _count;

    public override string Name => "mae";

    public override bool HigherIsBetter => false;

    public override void Reset() => (_sum, _count) = (0, 0);

    public override void Update(Tensor<T> output, in Batch<T> batch)
    {
        ReadOnlySpan<T> y = output.ReadOnlySpan, t = TargetsOf(output, batch).ReadOnlySpan;
        for (int i = 0; i < y.Length; i++) _sum += Math.Abs(double.CreateChecked(y[i] - t[i]));
        _count += y.Length;
    }

    public override double Value => _count == 0 ? double.NaN : _sum / _count;
}
