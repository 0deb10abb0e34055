using System.Globalization;
using System.Numerics;
using NeuralNet.Init;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Fully connected layer: y = x·Wᵀ + b.
/// </summary>
/// <remarks>
/// Shapes: x (N, in), W (out, in), b (out), y (N, out).
/// <para>Forward, per element: y[n,o] = Σᵢ x[n,i]·W[o,i] + b[o].</para>
/// <para>Backward, from the chain rule with ∂y[n,o]/∂W[o,i] = x[n,i], ∂y[n,o]/∂b[o] = 1, ∂y[n,o]/∂x[n,i] = W[o,i]:</para>
/// <code>
///   dW += dyᵀ·x   (out, in)   dW[o,i] = Σₙ dy[n,o]·x[n,i]
///   db += Σₙ dy    (out)
///   dx  = dy·W    (N, in)     dx[n,i] = Σₒ dy[n,o]·W[o,i]
/// </code>
/// All three are one GEMM or one column sum; forward saves only a reference to x.
/// <para>Initialization: W by the given <see cref="Initializer"/> (default U(−1/√in, 1/√in), as PyTorch), b = 0 when an
/// initializer is given, else U(−1/√in, 1/√in).</para>
/// </remarks>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input;
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;
    private Tensor<T>? _zeroGradInput;

    /// <summary>Creates the layer and initializes it from <paramref name="rng"/> (default: <see cref="Init.Init.DefaultRng"/>).</summary>
    public Linear(int inFeatures, int outFeatures, Initializer? init = null, bool bias = true, Rng? rng = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Initializer = init ?? NeuralNet.Init.Init.LinearDefault;
        Weight = new Parameter<T>(new Tensor<T>(outFeatures, inFeatures));
        Bias = bias ? new Parameter<T>(new Tensor<T>(outFeatures)) : null;
        ResetParameters(rng ?? NeuralNet.Init.Init.DefaultRng, biasUniform: init is null);
    }

    /// <summary>in: the number of input features, the width of x and of W's rows.</summary>
    public int InFeatures { get; }

    /// <summary>out: the number of output features, W's rows and b's length.</summary>
    public int OutFeatures { get; }

    /// <summary>
    /// When false, Backward skips dx = dy·W (a third of the layer's backward work) and returns zeros: for a first
    /// layer, whose input is data, nobody needs that gradient. Default true.
    /// </summary>
    public bool ComputeInputGradient { get; set; } = true;

    /// <summary>The scheme used for the weight.</summary>
    public Initializer Initializer { get; }

    /// <summary>W, shape (out, in).</summary>
    public Parameter<T> Weight { get; }

    /// <summary>b, shape (out), or null for a layer built with bias: false.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>Draws new weights (and bias) from <paramref name="rng"/>.</summary>
    public void ResetParameters(Rng rng, bool biasUniform = false)
    {
        Initializer.Fill(Weight.Value, InFeatures, OutFeatures, rng);
        if (Bias is null) return;
        if (biasUniform) NeuralNet.Init.Init.LinearDefault.Fill(Bias.Value, InFeatures, OutFeatures, rng);
        else Bias.Value.Span.Clear();
    }

    /// <summary>"weight" (W), then "bias" (b) when the layer has one.</summary>
    protected override IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }

    /// <summary>y = x·Wᵀ + b; x (N, in) → y (N, out), overwritten by the next call.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank != 2 || input.Shape[1] != InFeatures)
            throw new ShapeMismatchException($"Linear.Forward: input {input.Shape} does not match weight {Weight.Shape}: expected (N, {InFeatures}).");
        int n = input.Rows;
        _input = input;
        var y = Reuse(ref _output, n, OutFeatures);
        // y = x·Wᵀ + b: y ← b in every row, then y += x·Wᵀ   (N, in)·(in, out) → (N, out)
        // Cut by output features: thread t reads only its rows of W, the rows it updates in the backward pass and the step.
        if (Bias is not null) TensorOps.BroadcastRows(Bias.Value, y);
        TensorOps.MatMul(input, Weight.Value, y, transposeB: true, accumulate: Bias is not null, split: MatMulSplit.Columns);
        return y;
    }

    /// <summary>dW += dyᵀ·x, db += Σₙ dy; returns dx = dy·W (N, in) (zeros when <see cref="ComputeInputGradient"/> is false).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_output, gradOutput);
        var x = _input!;
        // dW += dyᵀ·x   (out, N)·(N, in) → (out, in), cut by output features as in the forward pass
        TensorOps.MatMul(gradOutput, x, Weight.Grad, transposeA: true, accumulate: true, split: MatMulSplit.Rows);
        // db += Σₙ dy   (out)
        if (Bias is not null) TensorOps.AccumulateColumnSums(gradOutput, Bias.Grad);
        // dx = dy·W     (N, out)·(out, in) → (N, in)
        if (!ComputeInputGradient) return UnrequestedGradient(ref _zeroGradInput, x.Shape);
        var dx = Reuse(ref _gradInput, x.Shape);
        TensorOps.MatMul(gradOutput, Weight.Value, dx);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is not null ? "True" : "False")})");
}
