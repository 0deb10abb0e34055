using System.Numerics;
using NeuralNet.Layers;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="Linear{T}"/> whose weight gradient is built from the layer's output instead of its input: dW += dyᵀ·y
/// where dW += dyᵀ·x is right (∂y[n,o]/∂W[o,i] = x[n,i]). dyᵀ·y is (out, out), so the mistake only runs for a square
/// layer (in = out); for any other the shapes stop it. Bug <see cref="BackwardBug.WeightGradientFromOutput"/>.
/// </summary>
public sealed class LinearWeightGradientFromOutput<T> : BuggyModule<T, Linear<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _gradInput;
    private Tensor<T>? _zeroGradInput;

    internal LinearWeightGradientFromOutput(Linear<T> layer, BackwardBug bug) : base(layer, bug)
    {
        if (layer.InFeatures != layer.OutFeatures)
            throw new ArgumentException($"{bug.Name}: dyᵀ·y is ({layer.OutFeatures}, {layer.OutFeatures}) but the weight of {layer} is {layer.Weight.Shape}; the bug needs a square layer (in = out).", nameof(layer));
    }

    /// <summary>BUG: dW += dyᵀ·y (out, out) instead of dyᵀ·x; db += Σₙ dy; returns dx = dy·W (N, in) (zeros when the layer's <see cref="Linear{T}.ComputeInputGradient"/> is false).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var x = Input!;
        // BUG: dW += dyᵀ·y   (out, N)·(N, out), where dyᵀ·x (out, N)·(N, in) is right.
        TensorOps.MatMul(gradOutput, Output!, Layer.Weight.Grad, transposeA: true, accumulate: true);
        // db += Σₙ dy   (out)
        if (Layer.Bias is not null) TensorOps.AccumulateColumnSums(gradOutput, Layer.Bias.Grad);
        if (!Layer.ComputeInputGradient) return UnrequestedGradient(ref _zeroGradInput, x.Shape);
        // dx = dy·W     (N, out)·(out, in) → (N, in)
        var dx = Reuse(ref _gradInput, x.Shape);
        TensorOps.MatMul(gradOutput, Layer.Weight.Value, dx);
        return dx;
    }
}
