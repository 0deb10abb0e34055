using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The specification of <see cref="BatchNormKernels"/>: the same contract as plain loops over (n, c, s), every sum in
/// double, one thread. The tests compare every level of the tuned kernels with it (to rounding: the sums are grouped
/// differently).
/// </summary>
public static class BatchNormKernelsReference
{
    /// <summary>Same contract as <see cref="BatchNormKernels.Forward{T}"/>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int channels, int spatial, bool batchStatistics,
        Span<double> mean, Span<double> variance, double eps, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> y, Span<double> rstd, bool relu = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = n * spatial;
        for (int c = 0; c < channels; c++)
        {
            if (batchStatistics)
            {
                double sum = 0, squares = 0;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s < spatial; s++) sum += double.CreateChecked(x[(i * channels + c) * spatial + s]);
                mean[c] = sum / m;
                T mu = T.CreateChecked(mean[c]);
                for (int i = 0; i < n; i++)
                {
                    for (int s = 0; s < spatial; s++)
                    {
                        double d = double.CreateChecked(x[(i * channels + c) * spatial + s] - mu);
                        squares += d * d;
                    }
                }
                variance[c] = squares / m;
            }
            rstd[c] = 1 / Math.Sqrt(variance[c] + eps);
            T r = T.CreateChecked(rstd[c]), muT = T.CreateChecked(mean[c]);
            for (int i = 0; i < n; i++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int at = (i * channels + c) * spatial + s;
                    T xhat = (x[at] - muT) * r;
                    y[at] = gamma[c] * xhat + beta[c];
                    if (relu && y[at] < T.Zero) y[at] = T.Zero;
                }
            }
        }
    }

    /// <summary>Same contract as <see cref="BatchNormKernels.Backward{T}"/>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int n, int channels, int spatial, bool batchStatistics,
        ReadOnlySpan<T> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd, Span<T> dgamma, Span<T> dbeta, Span<T> dx,
        ReadOnlySpan<T> reluBeta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = n * spatial;
        bool relu = !reluBeta.IsEmpty;
        for (int c = 0; c < channels; c++)
        {
            double sumDy = 0, sumDyXhat = 0;
            // The fused forward's output z = max(0, (x − μ)·(γ·r) + β), in T as the kernel computes it: its mask.
            T muT = T.CreateChecked(mean[c]), scale = T.CreateChecked(double.CreateChecked(gamma[c]) * rstd[c]);
            for (int i = 0; i < n; i++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int at = (i * channels + c) * spatial + s;
                    double g = relu && !((x[at] - muT) * scale + reluBeta[c] > T.Zero) ? 0 : double.CreateChecked(dy[at]); // a fused ReLU's mask
                    sumDy += g;
                    sumDyXhat += g * (double.CreateChecked(x[at]) - mean[c]) * rstd[c]; // x̂
                }
            }
            dbeta[c] += T.CreateChecked(sumDy);
            dgamma[c] += T.CreateChecked(sumDyXhat);
            double a = double.CreateChecked(gamma[c]) * rstd[c];
            for (int i = 0; i < n; i++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int at = (i * channels + c) * spatial + s;
                    double g = relu && !((x[at] - muT) * scale + reluBeta[c] > T.Zero) ? 0 : double.CreateChecked(dy[at]);
                    dx[at] = T.CreateChecked(batchStatistics ? a * (g - sumDy / m - (double.CreateChecked(x[at]) - mean[c]) * rstd[c] * sumDyXhat / m) : a * g);
                }
            }
        }
    }
}
