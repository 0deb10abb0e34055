using System.Numerics;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// y = f(x), one element at a time: the formula written once per form (scalar, 256-bit and 512-bit vectors), as
/// TensorPrimitives' <c>IUnaryOperator</c>. Implemented by <c>readonly struct</c>s, so the generic
/// <see cref="ElementwiseDriver"/> is compiled once per operator and the calls inline (no virtual dispatch). Parameters of
/// the formula (a slope, a shift) are the struct's fields.
/// </summary>
public interface IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>f(x).</summary>
    T Invoke(T x);

    /// <summary>f applied to each lane.</summary>
    Vector256<T> Invoke(Vector256<T> x);

    /// <summary>f applied to each lane.</summary>
    Vector512<T> Invoke(Vector512<T> x);
}
