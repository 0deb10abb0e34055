using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

/// <summary>
/// The one door between the model code (layers, activations, losses, optimizers) and the kernels: every tensor-level
/// computation those call goes through here. It is also where the process-wide kernel settings are made (the thread
/// count and the instruction set), and the seam where another backend would plug in.
/// </summary>
/// <remarks>
/// Shapes are checked here, once, with messages that name the operation and the shapes; the kernels behind
/// (<c>NeuralNet.Tensors.Kernels</c>) take spans and sizes and only assert. Destinations come last and are
/// overwritten unless the method says it accumulates (+=). Nothing allocates once buffers are sized.
/// </remarks>
public static partial class TensorOps
{
    /// <summary>
    /// The number of threads kernels may use (default: the number of logical processors). Results do not depend on it:
    /// every output element is computed by one thread in a fixed order.
    /// </summary>
    public static int Threads
    {
        get => Parallelism.MaxThreads;
        set => Parallelism.MaxThreads = value;
    }

    /// <summary>The vector instruction set the kernels use now (default: the widest this CPU supports); see <see cref="Simd"/>.</summary>
    public static SimdLevel InstructionSet
    {
        get => Simd.Active;
        set => Simd.Active = value;
    }

    /// <summary>The widest instruction set this CPU and runtime support.</summary>
    public static SimdLevel BestInstructionSet => Simd.Best;

    /// <summary>
    /// The instruction set named <paramref name="name"/> (<c>scalar</c>, <c>avx2</c>, <c>avx512</c>, any case), capped at
    /// <see cref="BestInstructionSet"/>; null for another name. <c>nn</c> applies <c>NN_MAX_ISA</c> with it.
    /// </summary>
    public static SimdLevel? ParseInstructionSet(string name) => Simd.Parse(name);

    /// <summary>A short name of <see cref="InstructionSet"/> for reports, e.g. "AVX2+FMA" or "AVX-512F".</summary>
    public static string InstructionSetName => Simd.Describe(Simd.Active);

    /// <summary>
    /// Runs parts 0 … <paramref name="parts"/> − 1 of <paramref name="work"/> on up to <see cref="Threads"/> threads and
    /// waits for all. Called from inside a part, the parts run on the calling thread.
    /// </summary>
    internal static void RunParts(PartitionedWork work, int parts) => Parallelism.Run(work, parts);
}
