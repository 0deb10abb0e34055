using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>
/// Coefficient of determination R² = 1 − Σ(y − t)² / Σ(t − t̄)², per output column and averaged over the columns
/// (scikit-learn's r2_score, multioutput="uniform_average"). 1 is perfect; 0 is as good as predicting the mean.
/// </summary>
public sealed class R2Score<T> : Metric<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Per column: Σ(y − t)², Σt, Σt², n; Σ(t − t̄)² = Σt² − (Σt)²/n needs no second pass.
    private double[] _sse = [], _sum = [], _sumSq = [];
    private long _n;

    /// <inheritdoc/>
    public override string Name => "r2";

    /// <inheritdoc/>
    public override bool HigherIsBetter => true;

    /// <inheritdoc/>
    public override void Reset() => (_sse, _sum, _sumSq, _n) = ([], [], [], 0);

    /// <summary>Adds, per column j, Σ(yⱼ − tⱼ)², Σtⱼ and Σtⱼ², and the row count; output y and the batch's targets t: (B, K).</summary>
    public override void Update(Tensor<T> output, in Batch<T> batch)
    {
        var targets = TargetsOf(output, batch);
        int k = output.RowLength;
        if (_sse.Length != k) (_sse, _sum, _sumSq) = (new double[k], new double[k], new double[k]);
        for (int r = 0; r < output.Rows; r++)
        {
            ReadOnlySpan<T> y = output.Row(r), t = targets.Row(r);
            for (int j = 0; j < k; j++)
            {
                double tj = double.CreateChecked(t[j]), d = double.CreateChecked(y[j]) - tj;
                _sse[j] += d * d;
                _sum[j] += tj;
                _sumSq[j] += tj * tj;
            }
        }
        _n += output.Rows;
    }

    /// <summary>(1/K)·Σⱼ (1 − SSEⱼ/SSTⱼ), SSEⱼ = Σ(yⱼ − tⱼ)², SSTⱼ = Σtⱼ² − (Σtⱼ)²/n; a column with SSTⱼ = 0 scores 1 if SSEⱼ = 0, else 0. NaN before any row.</summary>
    public override double Value
    {
        get
        {
            if (_n == 0) return double.NaN;
            double total = 0;
            for (int j = 0; j < _sse.Length; j++)
            {
                double sst = _sumSq[j] - _sum[j] * _sum[j] / _n;
                total += sst > 0 ? 1 - _sse[j] / sst : (_sse[j] == 0 ? 1 : 0);
            }
            return total / _sse.Length;
        }
    }
}
