using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

/// <summary>Sets <see cref="Simd.Active"/> for a block and restores it on dispose (use only in the Serial collection).</summary>
internal readonly struct SimdScope : IDisposable
{
    private readonly SimdLevel _saved;

    public SimdScope(SimdLevel level)
    {
        _saved = Simd.Active;
        Simd.Active = level;
    }

    public void Dispose() => Simd.Active = _saved;
}
