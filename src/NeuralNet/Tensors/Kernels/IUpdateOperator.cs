using System.Numerics;
using System.Runtime.Intrinsics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// One optimizer update of one parameter element: θ' = f(θ, g, s₀, s₁, s₂), updating the state elements sᵢ
/// (momentum buffer, moment estimates) in place, with the formula written once per form as in
/// <see cref="IUnaryOperator{T}"/>. Run by <see cref="UpdateDriver"/>; a state the optimizer does not keep is a
/// zero that is never stored.
/// </summary>
public interface IUpdateOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Returns the new θ; updates the states.</summary>
    T Invoke(T theta, T grad, ref T s0, ref T s1, ref T s2);

    /// <summary>The same, lane by lane.</summary>
    Vector256<T> Invoke(Vector256<T> theta, Vector256<T> grad, ref Vector256<T> s0, ref Vector256<T> s1, ref Vector256<T> s2);

    /// <summary>The same, lane by lane.</summary>
    Vector512<T> Invoke(Vector512<T> theta, Vector512<T> grad, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2);
}
