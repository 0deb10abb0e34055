using System.Globalization;
using System.Numerics;
using NeuralNet.Losses;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="CrossEntropyLoss{T}"/> whose gradient is not divided by the batch size: dx = p − q, the gradient of the
/// batch's sum Σₙ Lₙ, while Forward returns its mean (1/N)·Σₙ Lₙ, whose gradient is (p − q)/N. Every gradient behind
/// it is N times too large. Bug <see cref="BackwardBug.CrossEntropyNotAveraged"/>.
/// </summary>
public sealed class CrossEntropyLossWithoutMean<T> : CrossEntropyLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal CrossEntropyLossWithoutMean(double labelSmoothing, BackwardBug bug) : base(labelSmoothing) => Bug = bug;

    /// <summary>The mistake this loss's backward makes.</summary>
    public BackwardBug Bug { get; }

    /// <summary>dx = p − q, shape (N, C): N times the right gradient.</summary>
    public override Tensor<T> Backward()
    {
        // The right backward ends with dx = (p − q)/N …
        var g = base.Backward();
        // … BUG: multiplied back by N, dx = p − q, as if the loss were the sum over the batch.
        TensorOps.Multiply<T>(g.ReadOnlySpan, T.CreateChecked(g.Rows), g.Span);
        return g;
    }

    /// <summary>The loss's description and the bug: <c>CrossEntropyLoss(label_smoothing=0) [bug: ce-not-averaged]</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{base.ToString()} [bug: {Bug.Name}]");
}
