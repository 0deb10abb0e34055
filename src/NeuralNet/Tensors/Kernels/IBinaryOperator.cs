using System.Numerics;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>z = f(x, y), elementwise; see <see cref="IUnaryOperator{T}"/>.</summary>
public interface IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>f(x, y).</summary>
    T Invoke(T x, T y);

    /// <summary>f applied lane by lane.</summary>
    Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);

    /// <summary>f applied lane by lane.</summary>
    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}
