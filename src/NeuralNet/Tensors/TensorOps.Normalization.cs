using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

// Batch normalization's per-channel statistics and normalization.
public static partial class TensorOps
{
    /// <summary>
    /// Batch normalization forward over x viewed as (N, C, S), S the product of the extents after C (1 for (N, C)):
    /// per channel c, with <paramref name="batchStatistics"/> μ_c = (1/m)·Σ x and σ²_c = (1/m)·Σ (x − μ_c)² over its
    /// m = N·S values (biased) are written to <paramref name="mean"/> and <paramref name="variance"/>; otherwise they are
    /// read from there (the running statistics). Then r_c = 1/√(σ²_c + ε) into <paramref name="rstd"/> and
    /// y = γ_c·x̂ + β_c with x̂ = (x − μ_c)·r_c (not stored: <see cref="BatchNormBackward{T}"/> recomputes it from x).
    /// With <paramref name="relu"/>, y = max(0, γ_c·x̂ + β_c) (a following ReLU fused into the same pass).
    /// γ, β (C); x, y the same shape; mean, variance, rstd C doubles.
    /// </summary>
    public static void BatchNormForward<T>(Tensor<T> x, Tensor<T> gamma, Tensor<T> beta, bool batchStatistics,
        Span<double> mean, Span<double> variance, double eps, Span<double> rstd, Tensor<T> y, bool relu = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, s) = ChannelView("BatchNormForward", x, gamma);
        ShapeMismatchException.ThrowIfDifferent("BatchNormForward", gamma.Shape, beta.Shape, "gamma", "beta");
        ShapeMismatchException.ThrowIfDifferent("BatchNormForward", x.Shape, y.Shape, "x", "y");
        BatchNormKernels.Forward(x.ReadOnlySpan, n, c, s, batchStatistics, mean, variance, eps, gamma.ReadOnlySpan, beta.ReadOnlySpan,
            y.Span, rstd, relu);
    }

    /// <summary>
    /// Batch normalization backward, per channel c over its m values, from dy, the forward pass's input x and its μ_c
    /// and r_c (x̂ = (x − μ_c)·r_c): dβ_c += Σ dy, dγ_c += Σ dy·x̂, and dx = γ_c·r_c·(dy − Σ dy/m − x̂·Σ dy·x̂/m) with
    /// <paramref name="batchStatistics"/> (μ and σ² depend on x), else dx = γ_c·r_c·dy. With <paramref name="reluBeta"/>
    /// (β of a forward fused with a ReLU, z = max(0, y)), dy is first masked by [z &gt; 0], the backward of the ReLU that
    /// followed; the mask is recomputed from x with the forward's arithmetic (γ and β as in the forward pass), so z is not read.
    /// </summary>
    public static void BatchNormBackward<T>(Tensor<T> dy, Tensor<T> x, Tensor<T> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd,
        bool batchStatistics, Tensor<T> dgamma, Tensor<T> dbeta, Tensor<T> dx, Tensor<T>? reluBeta = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, s) = ChannelView("BatchNormBackward", dy, gamma);
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackward", dy.Shape, x.Shape, "dy", "x");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackward", dy.Shape, dx.Shape, "dy", "dx");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackward", gamma.Shape, dgamma.Shape, "gamma", "dgamma");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackward", gamma.Shape, dbeta.Shape, "gamma", "dbeta");
        if (reluBeta is not null) ShapeMismatchException.ThrowIfDifferent("BatchNormBackward", gamma.Shape, reluBeta.Shape, "gamma", "reluBeta");
        BatchNormKernels.Backward(dy.ReadOnlySpan, x.ReadOnlySpan, n, c, s, batchStatistics, gamma.ReadOnlySpan, mean, rstd,
            dgamma.Span, dbeta.Span, dx.Span, reluBeta is null ? default : reluBeta.ReadOnlySpan);
    }

    /// <summary>
    /// <see cref="BatchNormBackward{T}"/> with a fused ReLU (<paramref name="reluBeta"/>) whose output z went through a
    /// max pooling: <paramref name="dyPooled"/> is the gradient at the pooling's output (N, C, Ho, Wo) and
    /// <paramref name="argmax"/> (its length) each pooled output's winner as a flat index in its (H, W) plane of z. The
    /// gradient at z (zero, then dz[a] += dy per pooled output, the pooling's backward) is formed slice by slice inside
    /// this pass instead of as a tensor of x's size; the bytes equal the pooling's, the ReLU's and this backward run one
    /// after the other.
    /// </summary>
    public static void BatchNormBackwardUnpooled<T>(Tensor<T> dyPooled, ReadOnlySpan<int> argmax, int kernelSize, int stride, Tensor<T> x,
        Tensor<T> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd, bool batchStatistics, Tensor<T> dgamma, Tensor<T> dbeta,
        Tensor<T> dx, Tensor<T> reluBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, _) = ChannelView("BatchNormBackwardUnpooled", x, gamma);
        if (x.Rank != 4 || dyPooled.Rank != 4 || dyPooled.Shape[0] != n || dyPooled.Shape[1] != c)
            throw new ShapeMismatchException($"BatchNormBackwardUnpooled: x {x.Shape} must be (N, C, H, W) and dyPooled {dyPooled.Shape} have its batch and channels.");
        int oh = ConvOutputSize(x.Shape[2], kernelSize, stride, 0), ow = ConvOutputSize(x.Shape[3], kernelSize, stride, 0);
        if (dyPooled.Shape[2] != oh || dyPooled.Shape[3] != ow)
            throw new ShapeMismatchException($"BatchNormBackwardUnpooled: dyPooled {dyPooled.Shape} is not x {x.Shape} pooled by a {kernelSize}×{kernelSize} window with stride {stride}.");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackwardUnpooled", x.Shape, dx.Shape, "x", "dx");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackwardUnpooled", gamma.Shape, dgamma.Shape, "gamma", "dgamma");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackwardUnpooled", gamma.Shape, dbeta.Shape, "gamma", "dbeta");
        ShapeMismatchException.ThrowIfDifferent("BatchNormBackwardUnpooled", gamma.Shape, reluBeta.Shape, "gamma", "reluBeta");
        if (argmax.Length != dyPooled.Length)
            throw new ShapeMismatchException($"BatchNormBackwardUnpooled: {argmax.Length} arg-max indices for dyPooled {dyPooled.Shape}.");
        BatchNormKernels.BackwardUnpooled(dyPooled.ReadOnlySpan, argmax, x.Shape[2], x.Shape[3], kernelSize, stride, x.ReadOnlySpan, n, c,
            batchStatistics, gamma.ReadOnlySpan, mean, rstd, dgamma.Span, dbeta.Span, dx.Span, reluBeta.ReadOnlySpan);
    }

    /// <summary>(N, C, S) for x (N, C, …) with C = γ's length.</summary>
    private static (int N, int C, int S) ChannelView<T>(string operation, Tensor<T> x, Tensor<T> gamma) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank < 2 || gamma.Rank != 1 || x.Shape[1] != gamma.Length)
            throw new ShapeMismatchException($"{operation}: x {x.Shape} must be (N, C, …) with C = {gamma.Length} channels as gamma {gamma.Shape}.");
        int n = x.Shape[0], c = x.Shape[1];
        return (n, c, n * c == 0 ? 0 : x.Length / (n * c));
    }
}
