using System.Numerics;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>w = f(x, y, z), elementwise; see <see cref="IUnaryOperator{T}"/>.</summary>
public interface ITernaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>f(x, y, z).</summary>
    T Invoke(T x, T y, T z);

    /// <summary>f applied lane by lane.</summary>
    Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> z);

    /// <summary>f applied lane by lane.</summary>
    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z);
}
