using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests;

/// <summary>Runs a test body once per instruction set this machine supports, restoring the active one afterwards.</summary>
internal static class SimdLevels
{
    /// <summary>The lengths the kernel tests use: every length through 67 (each vector width's body, unrolled body and tail), then 129 and 300.</summary>
    public static readonly int[] Lengths = [.. Enumerable.Range(0, 68), 129, 300];

    /// <summary>Calls <paramref name="body"/> with <see cref="Simd.Active"/> set to each level of <see cref="Simd.Supported"/>.</summary>
    public static void ForEach(Action<SimdLevel> body)
    {
        SimdLevel saved = Simd.Active;
        try
        {
            foreach (SimdLevel level in Simd.Supported)
            {
                Simd.Active = level;
                body(level);
            }
        }
        finally
        {
            Simd.Active = saved;
        }
    }

    /// <summary>The result of <paramref name="run"/> at <see cref="SimdLevel.Scalar"/>, restoring the active level.</summary>
    public static TResult AtScalar<TResult>(Func<TResult> run)
    {
        SimdLevel saved = Simd.Active;
        try
        {
            Simd.Active = SimdLevel.Scalar;
            return run();
        }
        finally
        {
            Simd.Active = saved;
        }
    }
}
