namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Runs work over independent slices (the (n, c) planes of an NCHW tensor for pooling, the channels for BatchNorm) in
/// contiguous blocks on <see cref="Parallelism"/>. Each slice's arithmetic is the same whichever block or thread runs
/// it, so results never depend on the partition.
/// Small tensors run inline: waking the pool costs more than they do.
/// </summary>
internal abstract class PlaneBlocks : IParallelWork
{
    /// <summary>Below this many input elements the work runs on the calling thread.</summary>
    private const int ParallelThreshold = 1 << 15;

    private int _planes, _blockSize;

    /// <summary>Processes slices [first, first + count).</summary>
    protected abstract void Execute(int first, int count);

    /// <summary>Runs all <paramref name="planes"/> slices (of <paramref name="elements"/> input elements in all) and waits.</summary>
    protected void Run(int planes, int elements)
    {
        if (planes == 0) return;
        int blocks = elements < ParallelThreshold ? 1 : Math.Min(planes, 4 * Parallelism.MaxThreads);
        _planes = planes;
        _blockSize = (planes + blocks - 1) / blocks;
        Parallelism.Run(this, (planes + _blockSize - 1) / _blockSize);
    }

    void IParallelWork.Execute(int part)
    {
        int first = part * _blockSize;
        Execute(first, Math.Min(_blockSize, _planes - first));
    }
}
