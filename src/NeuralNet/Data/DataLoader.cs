using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>
/// Mini-batches over a <see cref="Dataset{T}"/>. Without shuffling a batch is a view of consecutive rows (no copy);
/// with shuffling the rows of a batch are gathered into one of two reused buffers, as are all batches of a set kept as
/// bytes (decoded as they are gathered), and the next batch is gathered into the other while the caller works on this
/// one (<see cref="GetBatch"/>). Either way a step allocates nothing.
/// </summary>
/// <remarks>
/// The order of epoch e is a Fisher–Yates shuffle seeded by (seed, e) alone, so training resumed at epoch e sees
/// exactly the batches an uninterrupted run would, whatever happened before.
/// </remarks>
public sealed class DataLoader<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _order;
    private readonly Tensor<T>?[] _gathered = new Tensor<T>?[2];  // two batch buffers: one in use, the next batch gathered into the other
    private readonly int[]?[] _gatheredLabels = new int[]?[2];
    private int[]? _consecutive;
    private readonly Tensor<T>?[] _views;        // unshuffled batches of a tensor: views of its rows
    private readonly Tensor<T>? _gatheredTargets;
    private readonly Tensor<T>?[] _targetViews;
    private readonly Tensor<T>?[] _bufferViews = new Tensor<T>?[4], _bufferTargetViews = new Tensor<T>?[2]; // [buffer·2 + short]
    private readonly Rng _rng = new(0);
    private readonly TensorOps.GatherInBackground<T> _prefetch = new();
    private int _lastBuffer = 1, _epochStamp, _prefetchStamp = -1, _prefetchIndex = -1, _prefetchBuffer;
    private bool _prefetchFromBytes;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> (≥ 1) rows of <paramref name="data"/>. With <paramref name="shuffle"/> (default
    /// true) each epoch visits the rows in an order seeded by (<paramref name="seed"/>, epoch); <paramref name="dropLast"/> skips a
    /// short last batch; <paramref name="transform"/> (augmentation, null for none) needs <paramref name="shuffle"/> = true.
    /// </summary>
    public DataLoader(Dataset<T> data, int batchSize, bool shuffle = true, bool dropLast = false, ulong seed = 0,
        Action<Tensor<T>, Rng>? transform = null)
    {
        if (transform is not null && !shuffle)
            throw new ArgumentException("DataLoader: a transform needs shuffle = true (it edits the gathered copy; unshuffled batches are views of the data set).", nameof(transform));
        Transform = transform;
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Data = data;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        _order = Enumerable.Range(0, data.Count).ToArray();
        BatchCount = dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        _views = new Tensor<T>?[shuffle ? 0 : BatchCount];
        _targetViews = new Tensor<T>?[data.Targets is null ? 0 : _views.Length];
        if (shuffle)
        {
            Buffer(0);
            if (data.Targets is not null) _gatheredTargets = new Tensor<T>(_gathered[0]!.Rows, data.Targets.RowLength);
        }
    }

    /// <summary>Batch buffer <paramref name="b"/> (0 or 1) and its labels, made on first use.</summary>
    private Tensor<T> Buffer(int b)
    {
        if (_gathered[b] is { } buffer) return buffer;
        buffer = _gathered[b] = new Tensor<T>([Math.Min(BatchSize, Data.Count), .. Data.SampleShape]);
        _gatheredLabels[b] = new int[buffer.Rows];
        return buffer;
    }

    /// <summary>The data set the batches are drawn from.</summary>
    public Dataset<T> Data { get; }

    /// <summary>Rows per batch (≥ 1); the last batch may be smaller unless <see cref="DropLast"/>.</summary>
    public int BatchSize { get; }

    /// <summary>True: each epoch visits the rows in a new order and batches are gathered copies; false: batches are views of consecutive rows.</summary>
    public bool Shuffle { get; }

    /// <summary>When true, a last batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Seeds each epoch's shuffle together with the epoch index, so the order of epoch e depends on (Seed, e) alone (default 0).</summary>
    public ulong Seed { get; }

    /// <summary>Applied in place to each gathered batch (augmentation), with the epoch's random source; null for none.</summary>
    public Action<Tensor<T>, Rng>? Transform { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount { get; }

    /// <summary>The batches of epoch <paramref name="epoch"/> (0-based), for <c>foreach</c>.</summary>
    public Epoch GetEpoch(int epoch)
    {
        _prefetch.Finish(); // a gather still running reads nothing of the order, but must not outlive it unseen
        _epochStamp++;
        _lastBuffer = 1; // every epoch alternates the buffers the same way, so its views are made once
        if (Shuffle)
        {
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            _rng.Reseed(Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1)));
            _rng.Shuffle<int>(_order);
        }
        return new Epoch(this);
    }

    /// <summary>
    /// Batch <paramref name="index"/> of the current epoch. A gathered batch's successor is gathered at once into a second
    /// buffer by kernel threads that are otherwise idle (between the products of the training step the batch is used in),
    /// so the next call mostly finds it ready; the values are the same either way, as long as the data set is not changed
    /// while an epoch is being read (a change would show in the batches after the next one, not in it).
    /// </summary>
    public Batch<T> GetBatch(int index)
    {
        if ((uint)index >= (uint)BatchCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"DataLoader: batch {index} of {BatchCount}.");
        bool prefetched = _prefetchStamp == _epochStamp && _prefetchIndex == index;
        _prefetchIndex = -1; // before Finish: a gather that failed is not taken for a finished one on a retry
        _prefetch.Finish();
        int start = index * BatchSize;
        int size = Math.Min(BatchSize, Data.Count - start);
        bool bytes = Data.TryGetBytes(out var samples, out T divisor);
        prefetched &= bytes == _prefetchFromBytes; // a set whose Features were read since is gathered from them
        if (!Shuffle && !bytes)
        {
            var view = _views[index] ??= Data.Features.RowRange(start, size);
            var targetView = Data.Targets is null ? null : _targetViews[index] ??= Data.Targets.RowRange(start, size);
            return new Batch<T>(index, view, Data.Labels, start, targetView);
        }
        int b = prefetched ? _prefetchBuffer : _gatheredTargets is null ? _lastBuffer ^ 1 : 0;
        var dst = Buffer(b);
        var labels = _gatheredLabels[b]!;
        var rows = Rows(start, size);
        if (!prefetched)
        {
            if (bytes) TensorOps.GatherRows(samples.Span, Data.SampleSize, divisor, rows, dst);
            else TensorOps.GatherRows(Data.Features, rows, dst);
        }
        for (int i = 0; i < size; i++) labels[i] = Data.Labels[rows[i]];
        if (_gatheredTargets is not null) TensorOps.GatherRows(Data.Targets!, rows, _gatheredTargets);
        // Views of the gathered buffer: one for full batches, one for a short last batch.
        int slot = size == dst.Rows ? 0 : 1;
        var v = _bufferViews[2 * b + slot];
        if (v is null || v.Rows != size) v = _bufferViews[2 * b + slot] = dst.RowRange(0, size);
        Tensor<T>? t = null;
        if (_gatheredTargets is not null)
        {
            t = _bufferTargetViews[slot];
            if (t is null || t.Rows != size) t = _bufferTargetViews[slot] = _gatheredTargets.RowRange(0, size);
        }
        Transform?.Invoke(v, _rng); // the shuffle is done, so the same source continues: still seeded by (seed, epoch)
        _lastBuffer = b;
        if (index + 1 < BatchCount && _gatheredTargets is null && TensorOps.Threads > 1)
        {
            // The next batch of this epoch into the other buffer (the one the previous batch, now invalid, used).
            int nextStart = start + BatchSize, nextSize = Math.Min(BatchSize, Data.Count - nextStart);
            var next = Buffer(b ^ 1);
            if (bytes) _prefetch.Start(samples, Data.SampleSize, divisor, Rows(nextStart, nextSize), next);
            else _prefetch.Start(Data.Features, Rows(nextStart, nextSize), next);
            (_prefetchStamp, _prefetchIndex, _prefetchBuffer, _prefetchFromBytes) = (_epochStamp, index + 1, b ^ 1, bytes);
        }
        return new Batch<T>(index, v, labels, 0, t);
    }

    /// <summary>The rows of the batch at <paramref name="start"/>: a slice of the epoch's order, or consecutive rows.</summary>
    private ReadOnlySpan<int> Rows(int start, int size)
    {
        if (Shuffle) return _order.AsSpan(start, size);
        _consecutive ??= new int[Math.Min(BatchSize, Data.Count)];
        for (int i = 0; i < size; i++) _consecutive[i] = start + i;
        return _consecutive.AsSpan(0, size);
    }

    /// <summary>The batches of one epoch; a struct enumerable, so <c>foreach</c> allocates nothing.</summary>
    public readonly struct Epoch(DataLoader<T> loader)
    {
        /// <summary>An enumerator over the epoch's <see cref="DataLoader{T}.BatchCount"/> batches.</summary>
        public Enumerator GetEnumerator() => new(loader);
    }

    /// <summary>Enumerates the batches of an epoch.</summary>
    public struct Enumerator(DataLoader<T> loader)
    {
        private int _index = -1;

        /// <summary>The batch the last <see cref="MoveNext"/> moved to; a gathered one (shuffled, or of a set kept as bytes) is overwritten after the next call.</summary>
        public Batch<T> Current { get; private set; }

        /// <summary>Advances to the next batch; false after the last.</summary>
        public bool MoveNext()
        {
            if (++_index >= loader.BatchCount) return false;
            Current = loader.GetBatch(_index);
            return true;
        }
    }
}
