namespace NeuralNet.Tensors;

/// <summary>
/// How a matrix product C = op(A)·op(B) is cut between the kernel threads. The result is the same bytes whichever is
/// chosen (every element of C is one thread's dot product in a fixed order); what changes is which memory each thread
/// reads and writes.
/// </summary>
/// <remarks>
/// A layer names the cut that keeps each thread on the same slice of its weights in the forward pass, the backward
/// pass and the optimizer's step (which updates slice t of every parameter on thread t, see
/// <see cref="NeuralNet.Optim.Optimizer{T}.Step"/>). The slice then stays in that core's cache from kernel to kernel;
/// otherwise the weights a core wrote are read, and re-written, by the other, and each such cache line moves
/// between cores.
/// </remarks>
public enum MatMulSplit
{
    /// <summary>Cut along the longer side of C.</summary>
    Auto,

    /// <summary>Each thread computes a band of C's rows, reading only those rows of op(A) (and all of op(B)).</summary>
    Rows,

    /// <summary>Each thread computes a band of C's columns, reading only those columns of op(B) (and all of op(A)).</summary>
    Columns,
}
