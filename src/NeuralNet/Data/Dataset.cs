using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>
/// A data set in memory: a features tensor whose first dimension indexes the samples (e.g. (60000, 784) or
/// (60000, 1, 28, 28)) and, for classification, one integer class label per sample, or, for regression, a targets
/// tensor (N, K) of real values (<see cref="Targets"/>). A classification set may instead keep its samples as bytes
/// (8-bit pixels), a quarter of the memory, decoded batch by batch (see the byte constructor).
/// </summary>
public sealed class Dataset<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _features;
    private Memory<byte> _bytes;     // the samples as bytes, SampleSize per sample, while _features is null
    private readonly T _divisor;     // x = byte / _divisor
    private readonly int[] _sampleShape;

    /// <summary>Wraps <paramref name="features"/> and <paramref name="labels"/> (not copied).</summary>
    public Dataset(Tensor<T> features, int[] labels, int? numClasses = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rank == 0 || features.Rows != labels.Length)
            throw new ShapeMismatchException($"Dataset: features {features.Shape} and {labels.Length} labels must have the same number of samples.");
        _features = features;
        _sampleShape = features.Shape.ToArray()[1..];
        SampleSize = features.Rows == 0 ? _sampleShape.Aggregate(1, (a, d) => a * d) : features.Length / features.Rows;
        (Labels, NumClasses, ClassNames) = CheckLabels(labels, numClasses, classNames);
    }

    /// <summary>
    /// A classification data set kept as bytes: sample i is bytes [i·S, (i + 1)·S) of <paramref name="samples"/> (not
    /// copied), S the product of <paramref name="sampleShape"/>, and its values are x = byte / <paramref name="divisor"/>,
    /// computed when a batch is made. A quarter of the memory of float features (MNIST's 60,000 training images: 47 MB
    /// rather than 188 MB); the batches hold exactly the values the division gives.
    /// </summary>
    /// <example><code>
    /// var train = new Dataset&lt;float&gt;(pixels, [784], 255f, labels, numClasses: 10);   // x = p/255
    /// </code></example>
    public Dataset(Memory<byte> samples, int[] sampleShape, T divisor, int[] labels, int? numClasses = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentNullException.ThrowIfNull(labels);
        if (sampleShape.Any(d => d <= 0))
            throw new ArgumentException($"Dataset: sample shape {Shape.Format(sampleShape)} must have positive dimensions.", nameof(sampleShape));
        if (!(divisor != T.Zero && T.IsFinite(divisor)))
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "Dataset: the divisor of the byte values must be finite and not zero.");
        long size = sampleShape.Aggregate(1L, (a, d) => a * d);
        if (size > int.MaxValue)
            throw new ArgumentException($"Dataset: a sample of {Shape.Format(sampleShape)} has more than {int.MaxValue} values.", nameof(sampleShape));
        if (samples.Length != size * labels.Length)
            throw new ShapeMismatchException($"Dataset: {samples.Length} bytes do not hold {labels.Length} samples of {Shape.Format(sampleShape)} ({size * labels.Length} bytes).");
        _bytes = samples;
        _divisor = divisor;
        _sampleShape = sampleShape.ToArray();
        SampleSize = (int)size;
        (Labels, NumClasses, ClassNames) = CheckLabels(labels, numClasses, classNames);
    }

    private static (int[] Labels, int Classes, IReadOnlyList<string> Names) CheckLabels(int[] labels, int? numClasses, IReadOnlyList<string>? classNames)
    {
        int classes = numClasses ?? (labels.Length == 0 ? 0 : labels.Max() + 1);
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Dataset: label {labels[i]} of sample {i} is outside [0, {classes}).");
        }
        if (classNames is not null && classNames.Count != classes)
            throw new ArgumentException($"Dataset: {classNames.Count} class names for {classes} classes.", nameof(classNames));
        return (labels, classes, classNames ?? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>A regression data set: <paramref name="features"/> (N, …) and <paramref name="targets"/> (N, K) (not copied).</summary>
    public Dataset(Tensor<T> features, Tensor<T> targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank == 0 || targets.Rank != 2 || features.Rows != targets.Rows)
            throw new ShapeMismatchException($"Dataset: features {features.Shape} and targets {targets.Shape} must have the same number of samples, targets as (N, K).");
        _features = features;
        _sampleShape = features.Shape.ToArray()[1..];
        SampleSize = features.Rows == 0 ? _sampleShape.Aggregate(1, (a, d) => a * d) : features.Length / features.Rows;
        Targets = targets;
        Labels = new int[features.Rows];
        NumClasses = 0;
        ClassNames = [];
    }

    /// <summary>
    /// The samples, first dimension = <see cref="Count"/>. A set kept as bytes decodes all of them into a new tensor here,
    /// once (4 bytes a value for float); from then on that tensor is the data: batches come from it, edits to it show.
    /// Batches, <see cref="Take"/>, <see cref="Subset"/> and the splits never need it. The tensor is this set's own: sets
    /// made from the bytes before (<see cref="Take"/>, <see cref="SplitInPlace"/>) keep reading the bytes. Not safe to
    /// read for the first time from two threads at once.
    /// </summary>
    public Tensor<T> Features
    {
        get
        {
            if (_features is null)
            {
                var features = new Tensor<T>([Count, .. _sampleShape]);
                TensorOps.DecodeBytes(_bytes.Span, _divisor, features.Span);
                _features = features;
                _bytes = default;
            }
            return _features;
        }
    }

    /// <summary>True while the samples are kept as bytes (the byte constructor, until <see cref="Features"/> is read).</summary>
    public bool StoredAsBytes => _features is null;

    /// <summary>The bytes and the divisor of a set kept as bytes (<see cref="StoredAsBytes"/>), for the batch loader.</summary>
    internal bool TryGetBytes(out ReadOnlyMemory<byte> bytes, out T divisor)
    {
        bytes = _bytes;
        divisor = _divisor;
        return _features is null;
    }

    /// <summary>Values per sample: the product of <see cref="SampleShape"/>.</summary>
    public int SampleSize { get; }

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
    public int[] SampleShape => _sampleShape.ToArray();

    /// <summary>A new data set holding copies of the samples at <paramref name="indices"/>, in that order.</summary>
    public Dataset<T> Subset(ReadOnlySpan<int> indices)
    {
        if (StoredAsBytes)
        {
            int size = SampleSize;
            var bytes = new byte[(long)indices.Length * size];
            var picked = new int[indices.Length];
            for (int i = 0; i < indices.Length; i++)
            {
                if ((uint)indices[i] >= (uint)Count)
                    throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Dataset.Subset: sample {indices[i]} of {Count}.");
                _bytes.Span.Slice(indices[i] * size, size).CopyTo(bytes.AsSpan(i * size, size));
                picked[i] = Labels[indices[i]];
            }
            return new Dataset<T>(bytes, _sampleShape, _divisor, picked, NumClasses, ClassNames);
        }
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
        if (StoredAsBytes) return new(_bytes[..(n * SampleSize)], _sampleShape, _divisor, Labels[..n], NumClasses, ClassNames);
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
        var labels = (int[])Labels.Clone();
        for (int j = 0; j < Count; j++) Labels[j] = labels[order[j]];
        if (StoredAsBytes)
        {
            int size = SampleSize;
            PermuteRows(_bytes.Span, size, order);
            return (new Dataset<T>(_bytes[(nVal * size)..], _sampleShape, _divisor, Labels[nVal..], NumClasses, ClassNames),
                    new Dataset<T>(_bytes[..(nVal * size)], _sampleShape, _divisor, Labels[..nVal], NumClasses, ClassNames));
        }
        PermuteRows(Features.Span, Features.RowLength, order);
        var validation = new Dataset<T>(Features.RowRange(0, nVal), Labels[..nVal], NumClasses, ClassNames);
        var train = new Dataset<T>(Features.RowRange(nVal, Count - nVal), Labels[nVal..], NumClasses, ClassNames);
        return (train, validation);
    }

    /// <summary>Row j of <paramref name="data"/> (rows of <paramref name="rowLength"/>) becomes old row order[j], following each cycle of the permutation with one row of scratch.</summary>
    private static void PermuteRows<TElement>(Span<TElement> data, int rowLength, int[] order)
    {
        var scratch = new TElement[rowLength];
        var done = new bool[order.Length];
        for (int start = 0; start < order.Length; start++)
        {
            if (done[start] || order[start] == start)
            {
                done[start] = true;
                continue;
            }
            data.Slice(start * rowLength, rowLength).CopyTo(scratch);
            int j = start;
            while (true)
            {
                done[j] = true;
                int from = order[j];
                if (from == start)
                {
                    scratch.CopyTo(data.Slice(j * rowLength, rowLength));
                    break;
                }
                data.Slice(from * rowLength, rowLength).CopyTo(data.Slice(j * rowLength, rowLength));
                j = from;
            }
        }
    }

    /// <summary>Size, sample shape and classes: <c>Dataset(60000 samples of (784,), 10 classes)</c>.</summary>
    public override string ToString() => $"Dataset({Count} samples of {Shape.Format(SampleShape)}, {NumClasses} classes)";
}
