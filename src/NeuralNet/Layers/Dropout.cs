using System.Globalization;
using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al., 2014): in training, y = x ⊙ m / (1 − p) with m[i] ~ Bernoulli(1 − p), so
/// E[y] = x and evaluation needs no rescaling; in evaluation, y = x.
/// </summary>
/// <remarks>
/// Args: p, the probability of zeroing an element (default 0.5), in [0, 1]; rng, the mask's random source (default: a
/// generator seeded from <see cref="Init.Init.DefaultRng"/>). Any shape.
/// <para>Forward keeps the scaled mask M = m / (1 − p) (0 or 1/(1 − p) per element), so y = x ⊙ M and backward is the
/// same product: dx = dy ⊙ M. In evaluation (or with p = 0) the layer is the identity: Forward returns its input and
/// Backward its gradOutput, no copy.</para>
/// </remarks>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Rng _rng;
    private Tensor<T>? _mask;
    private Tensor<T>? _output;   // own buffer
    private Tensor<T>? _returned; // what the last Forward returned: _output, or the input itself when the layer is the identity
    private Tensor<T>? _gradInput;
    private bool _identity;
    private bool _hasMask;

    /// <summary>Creates the layer; <paramref name="p"/> is the drop probability.</summary>
    public Dropout(double p = 0.5, Rng? rng = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1].");
        P = p;
        _rng = rng ?? new Rng(NeuralNet.Init.Init.DefaultRng.NextUInt64());
    }

    /// <summary>The probability that an element is zeroed in training.</summary>
    public double P { get; }

    /// <summary>
    /// When true, a training Forward reuses the previous mask (while the shape is unchanged) instead of drawing a new one,
    /// making the layer a fixed function: what a gradient check, which calls Forward many times, needs. Default false.
    /// </summary>
    public bool FreezeMask { get; set; }

    /// <summary>The mask generator, "rng": each training Forward advances it.</summary>
    protected override IEnumerable<(string Name, Rng Rng)> LocalRandomSources() => [("rng", _rng)];

    /// <summary>y = x ⊙ M in training (a new mask M each call unless <see cref="FreezeMask"/>); the input itself in evaluation.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _identity = !IsTraining || P == 0;
        if (_identity)
        {
            _returned = input;
            return input;
        }
        bool fresh = _mask is null || _mask.Shape != input.Shape;
        var mask = Reuse(ref _mask, input.Shape);
        if (fresh || !FreezeMask || !_hasMask)
        {
            // M[i] = 0 with probability p, else 1/(1 − p)
            TensorOps.DropoutMask(_rng, P, mask.Span);
            _hasMask = true;
        }
        // y = x ⊙ M
        var y = Reuse(ref _output, input.Shape);
        TensorOps.Multiply(input.ReadOnlySpan, mask.ReadOnlySpan, y.Span);
        _returned = y;
        return y;
    }

    /// <summary>dx = dy ⊙ M (training), or dy itself (evaluation).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        CheckGradShape(_returned, gradOutput);
        if (_identity) return gradOutput;
        // dx = dy ⊙ M
        var dx = Reuse(ref _gradInput, gradOutput.Shape);
        TensorOps.Multiply(gradOutput.ReadOnlySpan, _mask!.ReadOnlySpan, dx.Span);
        return dx;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p={P:R}, inplace=False)");
}
