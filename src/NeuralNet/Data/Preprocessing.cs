using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>One-hot encoding and scaling helpers.</summary>
public static class Preprocessing
{
    /// <summary>A (N, classes) tensor with 1 at [n, labels[n]] and 0 elsewhere.</summary>
    public static Tensor<T> OneHot<T>(ReadOnlySpan<int> labels, int numClasses) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(labels.Length, numClasses);
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)numClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"OneHot: label {labels[i]} at {i} is outside [0, {numClasses}).");
            t[i, labels[i]] = T.One;
        }
        return t;
    }

    /// <summary>x ← (x − min)/(max − min) over the whole tensor, in place (e.g. pixels 0–255 → [0, 1]).</summary>
    public static void ScaleToUnit<T>(Tensor<T> x, T min, T max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(max > min)) throw new ArgumentException($"ScaleToUnit: max ({max}) must exceed min ({min}).");
        T inv = T.One / (max - min);
        var s = x.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (s[i] - min) * inv;
    }
}

/// <summary>
/// Per-feature standardization, x ← (x − μ)/σ, with μ and σ computed on the training split only (so no information
/// leaks from validation or test data). Features with σ = 0 are only centred.
/// </summary>
public sealed class Standardizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Standardizer(T[] mean, T[] std) => (Mean, Std) = (mean, std);

    /// <summary>μ per feature.</summary>
    public T[] Mean { get; }

    /// <summary>σ per feature (population standard deviation).</summary>
    public T[] Std { get; }

    /// <summary>Computes μ and σ of each feature (column of the flattened samples) of <paramref name="train"/>.</summary>
    public static Standardizer<T> Fit(Tensor<T> train)
    {
        int n = train.Rows, d = train.RowLength;
        var sum = new double[d];
        var sumSq = new double[d];
        for (int i = 0; i < n; i++)
        {
            var row = train.Row(i);
            for (int j = 0; j < d; j++)
            {
                double v = double.CreateChecked(row[j]);
                sum[j] += v;
                sumSq[j] += v * v;
            }
        }
        var mean = new T[d];
        var std = new T[d];
        for (int j = 0; j < d; j++)
        {
            double m = sum[j] / Math.Max(1, n);
            mean[j] = T.CreateChecked(m);
            std[j] = T.CreateChecked(Math.Sqrt(Math.Max(0, sumSq[j] / Math.Max(1, n) - m * m)));
        }
        return new Standardizer<T>(mean, std);
    }

    /// <summary>Applies (x − μ)/σ in place.</summary>
    public void Transform(Tensor<T> x)
    {
        if (x.RowLength != Mean.Length)
            throw new ShapeMismatchException($"Standardizer.Transform: samples of {x.RowLength} features in {x.Shape}, fitted on {Mean.Length}.");
        for (int i = 0; i < x.Rows; i++)
        {
            var row = x.Row(i);
            for (int j = 0; j < row.Length; j++)
                row[j] = Std[j] > T.Zero ? (row[j] - Mean[j]) / Std[j] : row[j] - Mean[j];
        }
    }
}
