namespace NeuralNet.Tests;

/// <summary>
/// Tests that change process-wide kernel settings (<see cref="NeuralNet.Tensors.TensorOps.Threads"/>, the instruction set
/// <see cref="NeuralNet.Tensors.Kernels.Simd.Active"/>) or count this thread's allocations run here: xunit runs a
/// collection with parallelization disabled on its own, after the parallel ones, so no other test grows the kernel
/// thread pool in the middle of a measurement or runs at a level it did not choose.
/// </summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection;
