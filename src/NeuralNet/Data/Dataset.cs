using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>
/// A data set in memory: a features tensor whose first dimension indexes the samples (e.g. (60000, 784) or
/// (60000, 1, 28, 28)) and, for classification, one integer class label per sample, or, for regression, a targets
/// tensor (N, K) of real values (<see cref="Targets"/>).
/// </summary>
public sealed class Dataset<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Wraps <paramref name="features"/> and <paramref name="labels"/> (not copied).</summary>
    public Dataset(Tensor<T> features, int[] labels, int? numClasses = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rank == 0 || features.Rows != labels.Length)
            throw new ShapeMismatchException($"Dataset: features {features.Shape} and {labels.Length} labels must have the same number of samples.");
        int classes = numClasses ?? (labels.Length == 0 ? 0 : labels.Max() + 1);
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Dataset: label {labels[i]} of sample {i} is outside [0, {classes}).");
        }
        if (classNames is not null && classNames.Count != classes)
            throw new ArgumentException($"Dataset: {classNames.Count} class names for {classes} classes.", nameof(classNames));
        Features = features;
        Labels = labels;
        NumClasses = classes;
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>A regression data set: <paramref name="features"/> (N, …) and <paramref name="targets"/> (N, K) (not copied).</summary>
    public Dataset(Tensor<T> features, Tensor<T> targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank == 0 || targets.Rank != 2 || features.Rows != targets.Rows)
            throw new ShapeMismatchException($"Dataset: features {features.Shape} and targets {targets.Shape} must have the same number of samples, targets as (N, K).");
        Features = features;
        Targets = targets;
        Labels = new int[features.Rows];
        NumClasses = 0;
        ClassNames = [];
    }

    /// <summary>The samples, first dimension = <see cref="Count"/>.</summary>
    public Tensor<T> Features { get; }

    /// <summary>Regression targets (N, K); null for a classification data set.</summary>
    public Tensor<T>? Targets { get; }

    /// <summary>The class of each sample, in [0, <see cref="NumClasses"/>) (all 0 for a regression data set).</summary>
    public int[] Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Number of classes (0 for a regression data set).</summary>
    public int NumClasses { get; }

    /// <summary>A display name per class ("0".."9" unless given, e.g. Fashion-MNIST's "T-shirt/top").</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The shape of one sample (the features' shape without the first dimension).</summary>
    public int[] SampleShape => Features.Shape.ToArray()[1..];

    /// <summary>A new data set holding copies of the samples at <paramref name="indices"/>, in that order.</summary>
    public Dataset<T> Subset(ReadOnlySpan<int> indices)
    {
        int[] dims = Features.Shape.ToArray();
        dims[0] = indices.Length;
        var features = new Tensor<T>(dims);
        var labels = new int[indices.Length];
        var targets = Targets is null ? null : new Tensor<T>(indices.Length, Targets.RowLength);
        for (int i = 0; i < indices.Length; i++)
        {
            Features.Row(indices[i]).CopyTo(features.Row(i));
            labels[i] = Labels[indices[i]];
            if (targets is not null) Targets!.Row(indices[i]).CopyTo(targets.Row(i));
        }
        return targets is null ? new Dataset<T>(features, labels, NumClasses, ClassNames) : new Dataset<T>(features, targets);
    }

    /// <summary>The first <paramref name="count"/> samples, as views (no copy).</summary>
    public Dataset<T> Take(int count)
    {
        int n = Math.Min(count, Count);
        return Targets is null
            ? new(Features.RowRange(0, n), Labels[..n], NumClasses, ClassNames)
            : new(Features.RowRange(0, n), Targets.RowRange(0, n));
    }

    /// <summary>
    /// Splits into (train, validation) with a seeded shuffle: the validation set gets round(fraction·Count) samples.
    /// The same seed always gives the same split.
    /// </summary>
    public (Dataset<T> Train, Dataset<T> Validation) Split(double validationFraction, ulong seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Dataset.Split: the validation fraction must be in [0, 1).");
        int[] order = Enumerable.Range(0, Count).ToArray();
        new Rng(seed).Shuffle<int>(order);
        int nVal = (int)Math.Round(validationFraction * Count);
        var val = order.AsSpan(0, nVal).ToArray();
        var train = order.AsSpan(nVal).ToArray();
        Array.Sort(val);
        Array.Sort(train);
        return (Subset(train), Subset(val));
    }

    /// <summary>
    /// The same split as <see cref="Split"/>, without copying: the rows of this data set are reordered in place
    /// (validation samples first, then training samples, each in their original order) and both halves are views.
    /// Halves the peak memory of loading a large data set; this data set's order is changed.
    /// </summary>
    public (Dataset<T> Train, Dataset<T> Validation) SplitInPlace(double validationFraction, ulong seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Dataset.SplitInPlace: the validation fraction must be in [0, 1).");
        if (Targets is not null) return Split(validationFraction, seed);
        int[] order = Enumerable.Range(0, Count).ToArray();
        new Rng(seed).Shuffle<int>(order);
        int nVal = (int)Math.Round(validationFraction * Count);
        Array.Sort(order, 0, nVal);
        Array.Sort(order, nVal, Count - nVal);
        // Row j must receive old row order[j]: follow each cycle of the permutation with one row of scratch.
        var scratch = new T[Features.RowLength];
        var labels = (int[])Labels.Clone();
        var done = new bool[Count];
        for (int start = 0; start < Count; start++)
        {
            if (done[start] || order[start] == start)
            {
                done[start] = true;
                continue;
            }
            Features.Row(start).CopyTo(scratch);
            int j = start;
            while (true)
            {
                done[j] = true;
                int from = order[j];
                if (from == start)
                {
                    scratch.CopyTo(Features.Row(j));
                    break;
                }
                Features.Row(from).CopyTo(Features.Row(j));
                j = from;
            }
        }
        for (int j = 0; j < Count; j++) Labels[j] = labels[order[j]];
        var validation = new Dataset<T>(Features.RowRange(0, nVal), Labels[..nVal], NumClasses, ClassNames);
        var train = new Dataset<T>(Features.RowRange(nVal, Count - nVal), Labels[nVal..], NumClasses, ClassNames);
        return (train, validation);
    }

    /// <summary>Size, sample shape and classes: <c>Dataset(60000 samples of (784,), 10 classes)</c>.</summary>
    public override string ToString() => $"Dataset({Count} samples of {Shape.Format(SampleShape)}, {NumClasses} classes)";
}
