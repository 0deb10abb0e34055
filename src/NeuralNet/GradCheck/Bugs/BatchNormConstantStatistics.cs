using System.Numerics;
using NeuralNet.Layers;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck.Bugs;

/// <summary>
/// <see cref="BatchNorm{T}"/> whose training backward treats the batch mean μ and variance σ² as constants:
/// dx = γ·r·dy, the evaluation-mode formula, where in training μ = (1/m)·Σ x and σ² = (1/m)·Σ (x − μ)² depend on every x
/// and dx = γ·r·(dy − Σ dy/m − x̂·Σ dy·x̂/m) is right (r = 1/√(σ² + ε), x̂ = (x − μ)·r, sums per channel over its m values).
/// dγ += Σ dy·x̂ and dβ += Σ dy stay right: they never pass through μ and σ². Bug <see cref="BackwardBug.BatchNormConstantStatistics"/>.
/// </summary>
public sealed class BatchNormConstantStatistics<T> : BuggyModule<T, BatchNorm<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _mean;
    private readonly double[] _rstd;
    private Tensor<T>? _gradInput;

    internal BatchNormConstantStatistics(BatchNorm<T> layer, BackwardBug bug) : base(layer, bug)
    {
        _mean = new double[layer.NumFeatures];
        _rstd = new double[layer.NumFeatures];
    }

    /// <summary>The layer's forward; then μ and r per channel as it used them (the layer keeps its own private).</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = base.Forward(input);
        int n = input.Shape[0], c = Layer.NumFeatures, s = input.Length / (n * c);
        ReadOnlySpan<T> x = input.ReadOnlySpan;
        for (int ch = 0; ch < c; ch++)
        {
            double mean, variance;
            if (IsTraining)
            {
                // μ = (1/m)·Σ x, σ² = (1/m)·Σ (x − μ)² over the channel's m = N·S values
                double sum = 0, squares = 0;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < s; j++) sum += double.CreateChecked(x[(i * c + ch) * s + j]);
                mean = sum / (n * s);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < s; j++)
                    {
                        double d = double.CreateChecked(x[(i * c + ch) * s + j]) - mean;
                        squares += d * d;
                    }
                variance = squares / (n * s);
            }
            else
            {
                (mean, variance) = (double.CreateChecked(Layer.RunningMean[ch]), double.CreateChecked(Layer.RunningVar[ch]));
            }
            _mean[ch] = mean;
            _rstd[ch] = 1 / Math.Sqrt(variance + Layer.Eps);
        }
        return y;
    }

    /// <summary>dγ += Σ dy·x̂ and dβ += Σ dy (right); BUG: dx = γ·r·dy in training too, as if μ and σ² were constants. dx has x's shape.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(Output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // dβ += Σ dy, dγ += Σ dy·x̂ (right); BUG: dx = γ·r·dy in training too (batchStatistics: false), as if μ and σ²
        // did not depend on x.
        TensorOps.BatchNormBackward(gradOutput, Input!, Layer.Weight.Value, _mean, _rstd, batchStatistics: false,
            Layer.Weight.Grad, Layer.Bias.Grad, dx);
        return dx;
    }
}
