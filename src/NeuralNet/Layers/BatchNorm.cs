using System.Globalization;
using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy, 2015), shared by <see cref="BatchNorm1d{T}"/> and <see cref="BatchNorm2d{T}"/>:
/// y = (x − E[x]) / √(Var[x] + ε) · γ + β, per channel, over the batch and every spatial position.
/// </summary>
/// <remarks>
/// The input is viewed as (N, C, S): channel c's m = N·S values are x[n, c, s] (S = 1 for (N, C), S = H·W for images).
/// <para>Training: μ = (1/m)·Σ x, σ² = (1/m)·Σ (x − μ)² (biased), x̂ = (x − μ)·r with r = 1/√(σ² + ε), y = γ·x̂ + β,
/// and the buffers follow PyTorch: running_mean ← (1 − momentum)·running_mean + momentum·μ,
/// running_var ← (1 − momentum)·running_var + momentum·σ²·m/(m − 1) (unbiased).
/// Evaluation: μ and σ² are the running statistics, so y is a fixed affine map of x.</para>
/// <para>Backward, per channel (sums over the channel's m values). dγ and dβ come from y = γ·x̂ + β as in Linear;
/// in training x̂ also depends on every x through μ and σ². With dx̂ = dy·γ, ∂μ/∂x = 1/m and ∂σ²/∂x = 2(x − μ)/m:</para>
/// <code>
///   dβ += Σ dy            dγ += Σ dy·x̂
///   dx  = r·(dx̂ − (1/m)·Σ dx̂ − x̂·(1/m)·Σ dx̂·x̂)        (training)
///       = γ·r·(dy − Σ dy / m − x̂·Σ dy·x̂ / m)          (γ is constant per channel)
///   dx  = γ·r·dy                                       (evaluation: μ, σ² are constants)
/// </code>
/// The two sums are the ones dβ and dγ need, so backward reads dy and x twice and writes dx once.
/// Forward keeps a reference to its input and μ and r per channel; backward recomputes x̂ = (x − μ)·r as it reads x
/// (storing x̂ would cost a write and a read of the activations' size). Channels are independent and run in parallel, each by one thread.
/// <para>Not implemented: affine = False, track_running_stats = False, momentum = None (cumulative average), and
/// PyTorch's num_batches_tracked buffer (only used when momentum is None).</para>
/// </remarks>
public abstract class BatchNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _mean;
    private readonly double[] _variance;
    private readonly double[] _rstd;
    private Tensor<T>? _input;
    private bool _reluFused;                // the last forward applied max(0, ·) (ForwardReLU)
    private Tensor<T>? _output;
    private Tensor<T>? _gradInput;
    private bool _batchStatistics;

    /// <summary>Creates γ = 1, β = 0, running_mean = 0, running_var = 1.</summary>
    private protected BatchNorm(int numFeatures, double eps, double momentum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{Name}: eps must be positive.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{Name}: momentum must be in [0, 1].");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = new Parameter<T>(new Tensor<T>(numFeatures));
        Bias = new Parameter<T>(new Tensor<T>(numFeatures));
        RunningMean = new Tensor<T>(numFeatures);
        RunningVar = new Tensor<T>(numFeatures);
        _mean = new double[numFeatures];
        _variance = new double[numFeatures];
        _rstd = new double[numFeatures];
        ResetParameters();
    }

    /// <summary>C: the number of channels (features).</summary>
    public int NumFeatures { get; }

    /// <summary>ε, added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The weight of the newest batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>γ, shape (C), initialized to 1.</summary>
    public Parameter<T> Weight { get; }

    /// <summary>β, shape (C), initialized to 0.</summary>
    public Parameter<T> Bias { get; }

    /// <summary>The running mean (C), a buffer ("running_mean"): used in evaluation mode, saved in checkpoints.</summary>
    public Tensor<T> RunningMean { get; }

    /// <summary>The running unbiased variance (C), a buffer ("running_var").</summary>
    public Tensor<T> RunningVar { get; }

    private string Name => GetType().Name.Split('`')[0];

    /// <summary>Sets running_mean = 0 and running_var = 1.</summary>
    public void ResetRunningStats()
    {
        RunningMean.Fill(T.Zero);
        RunningVar.Fill(T.One);
    }

    /// <summary>Resets the running statistics and sets γ = 1, β = 0.</summary>
    public void ResetParameters()
    {
        ResetRunningStats();
        Weight.Value.Fill(T.One);
        Bias.Value.Fill(T.Zero);
    }

    /// <summary>"weight" (γ) and "bias" (β).</summary>
    protected override IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters()
    {
        yield return ("weight", Weight);
        yield return ("bias", Bias);
    }

    /// <summary>"running_mean" and "running_var".</summary>
    protected override IEnumerable<(string Name, Tensor<T> Buffer)> LocalBuffers()
    {
        yield return ("running_mean", RunningMean);
        yield return ("running_var", RunningVar);
    }

    /// <summary>Checks the input's shape and returns S, the positions per sample and channel.</summary>
    private protected abstract int SpatialSize(Tensor<T> input);

    /// <summary>Normalizes <paramref name="input"/> (batch statistics in training, running ones in evaluation); same shape out.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Forward(input, relu: false);

    /// <summary>
    /// <see cref="Forward(Tensor{T})"/> followed by max(0, ·) in the same pass over memory, for a <see cref="ReLU{T}"/>
    /// that follows this layer in a <see cref="Sequential{T}"/> (which then takes the result as the ReLU's output:
    /// <see cref="ReLU{T}.Adopt"/>, and runs the pair's backward as <see cref="BackwardReLU"/>).
    /// </summary>
    internal Tensor<T> ForwardReLU(Tensor<T> input) => Forward(input, relu: true);

    /// <summary>
    /// The backward of the ReLU after this layer and of this layer in one pass, after <see cref="ForwardReLU"/>:
    /// dy = dz ⊙ [z &gt; 0] (z this layer's output, which the ReLU adopted; the mask is recomputed from the input, so z is not
    /// read), then <see cref="Backward(Tensor{T})"/>'s formulas.
    /// The bytes are those of <c>Backward(relu.Backward(dz))</c>.
    /// </summary>
    internal Tensor<T> BackwardReLU(Tensor<T> gradOutput)
    {
        if (!_reluFused) throw new InvalidOperationException($"{Name}.BackwardReLU: the last forward pass was not ForwardReLU.");
        return Backward(gradOutput, relu: true);
    }

    /// <summary>
    /// The backward of a max pooling, of the ReLU before it and of this layer in one pass, after <see cref="ForwardReLU"/>
    /// whose output (the ReLU's) <paramref name="pool"/> took as its last input: the gradient at z is rebuilt slice by
    /// slice from the pooled gradient and the pooling's winners, masked by [z &gt; 0], and used at once. The bytes are
    /// those of <c>BackwardReLU(pool.Backward(dyPooled))</c>, without the pooling's gradient ever filling memory.
    /// </summary>
    internal Tensor<T> BackwardReLUMaxPool(Tensor<T> gradPooled, MaxPool2d<T> pool)
    {
        if (!_reluFused) throw new InvalidOperationException($"{Name}.BackwardReLUMaxPool: the last forward pass was not ForwardReLU.");
        if (!ReferenceEquals(pool.LastInput, _output))
            throw new InvalidOperationException($"{Name}.BackwardReLUMaxPool: the pooling's last input was not this layer's output.");
        pool.CheckGradient(gradPooled);
        var dx = Reuse(ref _gradInput, _output!.Shape);
        TensorOps.BatchNormBackwardUnpooled(gradPooled, pool.ArgMax(gradPooled.Length), pool.KernelSize, pool.Stride, _input!,
            Weight.Value, _mean, _rstd, _batchStatistics, Weight.Grad, Bias.Grad, dx, Bias.Value);
        return dx;
    }

    private Tensor<T> Forward(Tensor<T> input, bool relu)
    {
        int s = SpatialSize(input), n = input.Shape[0];
        _reluFused = relu;
        _batchStatistics = IsTraining;
        if (_batchStatistics && n * s < 2)
            throw new ShapeMismatchException($"{Name}.Forward: expected more than 1 value per channel when training, got input {input.Shape}.");
        _input = input;
        var y = Reuse(ref _output, input.Shape);
        if (!_batchStatistics)
        {
            // Evaluation: μ, σ² are the running statistics.
            for (int c = 0; c < NumFeatures; c++) (_mean[c], _variance[c]) = (double.CreateChecked(RunningMean[c]), double.CreateChecked(RunningVar[c]));
        }
        // Per channel c over its m = N·S values: (training) μ = (1/m)·Σ x, σ² = (1/m)·Σ (x − μ)²;
        // r = 1/√(σ² + ε), x̂ = (x − μ)·r, y = γ·x̂ + β.
        TensorOps.BatchNormForward(input, Weight.Value, Bias.Value, _batchStatistics, _mean, _variance, Eps, _rstd, y, relu);
        if (_batchStatistics)
        {
            // running ← (1 − momentum)·running + momentum·batch, with the unbiased σ²·m/(m − 1) (PyTorch).
            int m = n * s;
            double mo = Momentum;
            for (int c = 0; c < NumFeatures; c++)
            {
                RunningMean[c] = T.CreateChecked((1 - mo) * double.CreateChecked(RunningMean[c]) + mo * _mean[c]);
                RunningVar[c] = T.CreateChecked((1 - mo) * double.CreateChecked(RunningVar[c]) + mo * _variance[c] * m / (m - 1));
            }
        }
        return y;
    }

    /// <summary>Accumulates dγ, dβ and returns dx (the input's shape), overwritten by the next call.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput) => Backward(gradOutput, relu: false);

    private Tensor<T> Backward(Tensor<T> gradOutput, bool relu)
    {
        CheckGradShape(_output, gradOutput);
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        // Per channel: dβ += Σ dy, dγ += Σ dy·x̂;
        // dx = γ·r·(dy − Σ dy/m − x̂·Σ dy·x̂/m) in training, γ·r·dy in evaluation.
        TensorOps.BatchNormBackward(gradOutput, _input!, Weight.Value, _mean, _rstd, _batchStatistics, Weight.Grad, Bias.Grad, dx,
            relu ? Bias.Value : null);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}({NumFeatures}, eps={Eps.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant()}, momentum={Momentum:R}, affine=True, track_running_stats=True)");
}
