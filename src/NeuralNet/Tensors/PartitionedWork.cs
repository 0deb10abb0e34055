using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

/// <summary>
/// Work cut into a fixed number of independent parts, run by <see cref="TensorOps.RunParts"/> on the kernels' threads.
/// No two parts may write the same memory, and a part's arithmetic must depend on the part alone, so results do not
/// depend on which thread runs it or on the thread count. Allocate one per owner and reuse it: running allocates nothing.
/// </summary>
internal abstract class PartitionedWork : IParallelWork
{
    /// <summary>Runs part <paramref name="part"/>.</summary>
    public abstract void Execute(int part);
}
