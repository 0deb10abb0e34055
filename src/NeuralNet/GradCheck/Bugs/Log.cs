using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// y = log x, elementwise; with a <see cref="Activations.Softmax{T}"/> before it, an unfused log-softmax: the model
/// <c>… → Softmax → Log</c> trained with <see cref="Losses.CrossEntropyLoss{T}"/> has exactly the loss of the fused
/// <c>… → CrossEntropyLoss</c> (lse(log p) = log Σ p = 0, so the loss is −log p_label), but its gradient runs through the
/// softmax's own backward: the model the softmax bug's training experiment needs.
/// </summary>
/// <remarks>
/// Backward: dx = dy / x. NOTE: a probability that underflowed to 0 would give log 0 = −∞, so x is floored at 2⁻¹²⁶ (float's
/// smallest normal number); below it y = log 2⁻¹²⁶ and dx = 0. The fused loss never meets this: it works with logits.
/// </remarks>
public sealed class Log<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T s_floor = T.CreateChecked(1.1754943508222875e-38);
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;

    /// <summary>y = log max(x, 2⁻¹²⁶), elementwise; same shape, overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _input = input;
        var y = Reuse(ref _output, input.Shape);
        ReadOnlySpan<T> x = input.ReadOnlySpan;
        Span<T> ys = y.Span;
        // y = log max(x, 2⁻¹²⁶)
        for (int i = 0; i < x.Length; i++) ys[i] = T.Log(T.Max(x[i], s_floor));
        return y;
    }

    /// <summary>dx = dy / x (0 where x was floored at 2⁻¹²⁶); same shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        ReadOnlySpan<T> x = _input!.ReadOnlySpan, dy = gradOutput.ReadOnlySpan;
        Span<T> d = dx.Span;
        // dx = dy / x  (0 where x was floored: there y does not depend on x)
        for (int i = 0; i < x.Length; i++) d[i] = x[i] > s_floor ? dy[i] / x[i] : T.Zero;
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => "Log()";
}
