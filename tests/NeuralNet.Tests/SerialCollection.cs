namespace NeuralNet.Tests;

/// <summary>
/// Tests that change <see cref="NeuralNet.Tensors.Kernels.Parallelism.MaxThreads"/> (process-wide) or count this
/// thread's allocations run here: xunit runs a collection with parallelization disabled on its own, after the
/// parallel ones, so no other test grows the kernel thread pool in the middle of a measurement.
/// </summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection;
