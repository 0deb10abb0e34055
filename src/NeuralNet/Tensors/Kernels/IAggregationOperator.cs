using System.Numerics;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// An associative combination a ⊕ b (a sum, a maximum) with its identity, for the reductions of
/// <see cref="ElementwiseDriver"/>: lane-wise on vectors, then across the lanes of one vector.
/// </summary>
public interface IAggregationOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>e with e ⊕ a = a (0 for a sum, −∞ for a maximum): the result over no elements.</summary>
    T Identity { get; }

    /// <summary>a ⊕ b.</summary>
    T Invoke(T a, T b);

    /// <summary>a ⊕ b, lane by lane.</summary>
    Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);

    /// <summary>a ⊕ b, lane by lane.</summary>
    Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);

    /// <summary>v₀ ⊕ v₁ ⊕ … across the lanes.</summary>
    T Reduce(Vector256<T> v);

    /// <summary>v₀ ⊕ v₁ ⊕ … across the lanes.</summary>
    T Reduce(Vector512<T> v);
}
