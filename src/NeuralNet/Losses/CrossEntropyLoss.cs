using System.Globalization;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

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
/// </remarks>
public sealed class CrossEntropyLoss<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _probs;
    private Tensor<T>? _grad;
    private Tensor<T>? _softTarget;
    private int[] _labels = [];
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
        double eps = LabelSmoothing, total = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> x = logits.Row(i);
            Span<T> pr = p.Row(i);
            double lse = double.CreateChecked(RowOps.LogSumExp(x, pr));
            // pr holds exp(x − m) / … recomputed exactly as exp(x − lse).
            TensorPrimitives.Subtract(x, T.CreateChecked(lse), pr);
            TensorPrimitives.Exp(pr, pr);
            double loss = lse - (1 - eps) * double.CreateChecked(x[_labels[i]]);
            if (eps > 0) loss -= eps / c * double.CreateChecked(TensorPrimitives.Sum(x));
            total += loss;
        }
        return T.CreateChecked(total / n);
    }

    /// <summary>
    /// Mean cross-entropy against a target tensor: class indices of shape (N,), or class probabilities of shape (N, C)
    /// (each row summing to 1).
    /// </summary>
    public override T Forward(Tensor<T> input, Tensor<T> target)
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
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> x = input.Row(i);
            Span<T> qr = q.Row(i), pr = p.Row(i);
            target.Row(i).CopyTo(qr);
            if (eps > 0)
            {
                TensorPrimitives.Multiply(qr, T.CreateChecked(1 - eps), qr);
                TensorPrimitives.Add(qr, T.CreateChecked(eps / c), qr);
            }
            double lse = double.CreateChecked(RowOps.LogSumExp(x, pr));
            TensorPrimitives.Subtract(x, T.CreateChecked(lse), pr);
            TensorPrimitives.Exp(pr, pr);
            // −Σ q (x − lse) = lse·Σq − ⟨q, x⟩
            total += lse * double.CreateChecked(TensorPrimitives.Sum<T>(qr)) - double.CreateChecked(TensorPrimitives.Dot(qr, x));
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
                T sumQ = TensorPrimitives.Sum(qr);
                TensorPrimitives.Multiply(p.Row(i), sumQ, gr);
                TensorPrimitives.Subtract(gr, qr, gr);
                TensorPrimitives.Multiply(gr, invN, gr);
            }
            return g;
        }
        T eps = T.CreateChecked(LabelSmoothing);
        T offTarget = eps / T.CreateChecked(c);
        T onTarget = T.One - eps;
        for (int i = 0; i < _n; i++)
        {
            Span<T> gr = g.Row(i);
            ReadOnlySpan<T> pr = p.Row(i);
            if (LabelSmoothing > 0) TensorPrimitives.Subtract(pr, offTarget, gr);
            else pr.CopyTo(gr);
            gr[_labels[i]] -= onTarget;
            TensorPrimitives.Multiply(gr, invN, gr);
        }
        return g;
    }

    private static int CheckLogits(Tensor<T> logits)
    {
        if (logits.Rank != 2 || logits.Shape[1] < 1)
            throw new ShapeMismatchException($"CrossEntropyLoss.Forward: logits {logits.Shape} must have shape (N, C).");
        return logits.Shape[0];
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"CrossEntropyLoss(label_smoothing={LabelSmoothing})");
}
