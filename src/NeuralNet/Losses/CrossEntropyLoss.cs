using System.Globalization;
using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Losses;

/// <summary>
/// Softmax cross-entropy on logits, fused: L = (1/N) Σₙ −Σ_c q[n,c]·log p[n,c], p = softmax(x[n,:]).
/// q is the one-hot label, or with label smoothing ε, q = (1 − ε)·onehot + ε/C.
/// </summary>
/// <remarks>
/// Shapes: logits (N, C); labels N integers in [0, C), or a target tensor of N class indices (shape (N,)) or of
/// class probabilities (shape (N, C)).
/// <para>Stability: log p_c = x_c − lse(x), lse(x) = m + log Σ exp(x − m) with m = max x; no exponent is positive, so logits
/// of ±1000 give finite losses and gradients.</para>
/// <para>Backward: with Σ_c q_c = 1, ∂/∂x_j [lse(x) − Σ_c q_c x_c] = p_j − q_j, so dx[n,:] = (p[n,:] − q[n,:]) / N.
/// No Jacobian of softmax is ever formed: this is why softmax and cross-entropy are fused.</para>
/// <para>Not sealed only so that <see cref="GradCheck.Bugs.CrossEntropyLossWithoutMean{T}"/>, a deliberately wrong
/// backward for gradient-check lessons, can override <see cref="Backward"/>; the forward passes are sealed.</para>
/// </remarks>
public class CrossEntropyLoss<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _probs;
    private Tensor<T>? _grad;
    private Tensor<T>? _softTarget;
    private int[] _labels = [];
    private T[] _lse = [];   // per row: log Σ_c e^(x[n,c])
    private int _n;

    /// <summary>Creates the loss; <paramref name="labelSmoothing"/> ε must be in [0, 1).</summary>
    public CrossEntropyLoss(double labelSmoothing = 0.0)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "CrossEntropyLoss: label smoothing must be in [0, 1).");
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>ε: the share of the target mass spread evenly over all classes.</summary>
    public double LabelSmoothing { get; }

    /// <summary>The softmax probabilities of the last forward, shape (N, C).</summary>
    public Tensor<T> Probabilities => _probs ?? throw new InvalidOperationException("CrossEntropyLoss: no forward pass yet.");

    /// <summary>Mean cross-entropy of <paramref name="logits"/> (N, C) against integer class labels.</summary>
    public T Forward(Tensor<T> logits, ReadOnlySpan<int> labels)
    {
        int n = CheckLogits(logits);
        int c = logits.Shape[1];
        if (labels.Length != n)
            throw new ShapeMismatchException($"CrossEntropyLoss.Forward: logits {logits.Shape} has {n} rows but {labels.Length} labels were given.");
        if (_labels.Length < n) _labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)c)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"CrossEntropyLoss.Forward: label {labels[i]} at row {i} is outside [0, {c}) for logits {logits.Shape}.");
            _labels[i] = labels[i];
        }
        _softTarget = null;
        _n = n;

        var p = Reuse(ref _probs, logits.Shape);
        Span<T> lse = LogSumExpBuffer(n);
        // lseₙ = log Σ_c e^(x[n,c]) and p = e^(x − lse) = softmax(x), row by row (the row maximum subtracted first).
        TensorOps.LogSumExp(logits, lse, p);
        double eps = LabelSmoothing, total = 0;
        for (int i = 0; i < n; i++)
        {
            // −Σ_c q_c·log p_c = lse − Σ_c q_c·x_c, with q = (1 − ε)·onehot + ε/C.
            double loss = double.CreateChecked(lse[i]) - (1 - eps) * double.CreateChecked(logits[i, _labels[i]]);
            if (eps > 0) loss -= eps / c * double.CreateChecked(TensorOps.Sum<T>(logits.Row(i)));
            total += loss;
        }
        return T.CreateChecked(total / n);
    }

    /// <summary>
    /// Mean cross-entropy against a target tensor: class indices of shape (N,), or class probabilities of shape (N, C)
    /// (each row summing to 1).
    /// </summary>
    public sealed override T Forward(Tensor<T> input, Tensor<T> target)
    {
        int n = CheckLogits(input);
        if (target.Rank == 1 && target.Shape[0] == n)
        {
            Span<int> labels = n <= 1024 ? stackalloc int[n] : new int[n];
            for (int i = 0; i < n; i++)
            {
                T v = target[i];
                if (!T.IsInteger(v)) throw new ArgumentException($"CrossEntropyLoss.Forward: target {target.Shape} holds class indices, but row {i} is {v}.");
                labels[i] = int.CreateChecked(v);
            }
            return Forward(input, labels);
        }
        if (target.Shape != input.Shape)
            throw new ShapeMismatchException($"CrossEntropyLoss.Forward: target {target.Shape} must be class indices ({n},) or probabilities {input.Shape} for logits {input.Shape}.");

        int c = input.Shape[1];
        _n = n;
        var q = Reuse(ref _softTarget, input.Shape);
        var p = Reuse(ref _probs, input.Shape);
        double eps = LabelSmoothing, total = 0;
        target.CopyTo(q);
        // q ← (1 − ε)·q + ε/C
        if (eps > 0) TensorOps.Affine<T>(q.ReadOnlySpan, T.CreateChecked(1 - eps), T.CreateChecked(eps / c), q.Span);
        Span<T> lse = LogSumExpBuffer(n);
        TensorOps.LogSumExp(input, lse, p);
        for (int i = 0; i < n; i++)
        {
            // −Σ q (x − lse) = lse·Σq − ⟨q, x⟩
            ReadOnlySpan<T> qr = q.Row(i);
            total += double.CreateChecked(lse[i]) * double.CreateChecked(TensorOps.Sum(qr)) - double.CreateChecked(TensorOps.Dot(qr, input.Row(i)));
        }
        return T.CreateChecked(total / n);
    }

    /// <summary>dx = (p − q) / N, shape (N, C).</summary>
    public override Tensor<T> Backward()
    {
        var p = Probabilities;
        var g = Reuse(ref _grad, p.Shape);
        int c = p.Shape[1];
        T invN = T.One / T.CreateChecked(_n);
        if (_softTarget is not null)
        {
            // Σq may differ from 1 for soft targets: d/dx [lse·Σq − ⟨q, x⟩] = p·Σq − q.
            for (int i = 0; i < _n; i++)
            {
                Span<T> gr = g.Row(i);
                ReadOnlySpan<T> qr = _softTarget.Row(i);
                TensorOps.Multiply<T>(p.Row(i), TensorOps.Sum(qr), gr);
                TensorOps.Subtract<T>(gr, qr, gr);
            }
        }
        else
        {
            // p − q with q = (1 − ε)·onehot + ε/C: subtract ε/C everywhere, then 1 − ε at the label.
            T eps = T.CreateChecked(LabelSmoothing);
            if (LabelSmoothing > 0) TensorOps.Add<T>(p.ReadOnlySpan, -(eps / T.CreateChecked(c)), g.Span);
            else p.CopyTo(g);
            for (int i = 0; i < _n; i++) g[i, _labels[i]] -= T.One - eps;
        }
        // dx = (p − q)/N
        TensorOps.Multiply<T>(g.ReadOnlySpan, invN, g.Span);
        return g;
    }

    /// <summary>N elements of the per-row log-sum-exp buffer, grown when the batch grows.</summary>
    private Span<T> LogSumExpBuffer(int n)
    {
        if (_lse.Length < n) _lse = new T[n];
        return _lse.AsSpan(0, n);
    }

    private static int CheckLogits(Tensor<T> logits)
    {
        if (logits.Rank != 2 || logits.Shape[1] < 1)
            throw new ShapeMismatchException($"CrossEntropyLoss.Forward: logits {logits.Shape} must have shape (N, C).");
        return logits.Shape[0];
    }

    /// <summary>A one-line description, PyTorch style: <c>CrossEntropyLoss(label_smoothing=0.1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"CrossEntropyLoss(label_smoothing={LabelSmoothing})");
}
