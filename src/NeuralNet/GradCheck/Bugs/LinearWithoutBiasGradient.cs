using System.Numerics;
using NeuralNet.Layers;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="Linear{T}"/> whose backward forgets the bias: dW += dyᵀ·x and dx = dy·W as they should be, but no
/// db += Σₙ dy, so the bias never leaves its initial value. Bug <see cref="BackwardBug.NoBiasGradient"/>.
/// </summary>
public sealed class LinearWithoutBiasGradient<T> : BuggyModule<T, Linear<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _gradInput;
    private Tensor<T>? _zeroGradInput;

    internal LinearWithoutBiasGradient(Linear<T> layer, BackwardBug bug) : base(layer, bug) { }

    /// <summary>dW += dyᵀ·x; BUG: no db += Σₙ dy; returns dx = dy·W (N, in) (zeros when the layer's <see cref="Linear{T}.ComputeInputGradient"/> is false).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var x = Input!;
        // dW += dyᵀ·x   (out, N)·(N, in) → (out, in)
        TensorOps.MatMul(gradOutput, x, Layer.Weight.Grad, transposeA: true, accumulate: true);
        // BUG: db += Σₙ dy is missing.
        if (!Layer.ComputeInputGradient) return UnrequestedGradient(ref _zeroGradInput, x.Shape);
        // dx = dy·W     (N, out)·(out, in) → (N, in)
        var dx = Reuse(ref _gradInput, x.Shape);
        TensorOps.MatMul(gradOutput, Layer.Weight.Value, dx);
        return dx;
    }
}
