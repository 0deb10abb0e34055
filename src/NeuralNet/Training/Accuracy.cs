using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>Accuracy = (1/N) Σₙ [argmax_c output[n, c] = labelₙ]: output (B, C) logits or probabilities, integer labels.</summary>
public sealed class Accuracy<T> : Metric<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private long _correct, _seen;

    /// <inheritdoc/>
    public override string Name => "accuracy";

    /// <inheritdoc/>
    public override bool HigherIsBetter => true;

    /// <inheritdoc/>
    public override void Reset() => (_correct, _seen) = (0, 0);

    /// <summary>Counts the rows n with argmax_c output[n, c] = labelₙ; <paramref name="output"/> is (B, C) for a batch of B labels.</summary>
    public override void Update(Tensor<T> output, in Batch<T> batch)
    {
        if (output.Rank != 2 || output.Rows != batch.Size)
            throw new ShapeMismatchException($"Accuracy.Update: output {output.Shape} must be (B, C) for a batch of {batch.Size}.");
        var labels = batch.Labels;
        for (int i = 0; i < labels.Length; i++)
            if (Trainer.ArgMax<T>(output.Row(i)) == labels[i]) _correct++;
        _seen += labels.Length;
    }

    /// <summary>Correct rows / rows seen since the last <see cref="Reset"/>, in [0, 1]; NaN before any.</summary>
    public override double Value => _seen == 0 ? double.NaN : (double)_correct / _seen;
}
