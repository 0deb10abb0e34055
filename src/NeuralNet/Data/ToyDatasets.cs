using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>Small 2-D classification problems generated from a seed, for tests and demonstrations.</summary>
public static class ToyDatasets
{
    /// <summary>
    /// XOR: the four corners (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0, each repeated <paramref name="copies"/> times with
    /// Gaussian noise of standard deviation <paramref name="noise"/> (0: the exact four points).
    /// </summary>
    public static Dataset<T> Xor<T>(int copies = 1, double noise = 0, ulong seed = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var x = new Tensor<T>(4 * copies, 2);
        var y = new int[4 * copies];
        for (int c = 0; c < copies; c++)
        {
            for (int k = 0; k < 4; k++)
            {
                int i = c * 4 + k, a = k >> 1, b = k & 1;
                x[i, 0] = T.CreateChecked(a + noise * rng.NextNormal());
                x[i, 1] = T.CreateChecked(b + noise * rng.NextNormal());
                y[i] = a ^ b;
            }
        }
        return new Dataset<T>(x, y, 2);
    }

    /// <summary>
    /// Interleaved spirals (CS231n): point i of class k has radius r = i/(P − 1) and angle θ = 4k + 4r + N(0, noise²),
    /// at (r·sin θ, r·cos θ); P = <paramref name="pointsPerClass"/> points per arm. Not linearly separable.
    /// </summary>
    public static Dataset<T> Spirals<T>(int pointsPerClass = 100, int classes = 3, double noise = 0.2, ulong seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var x = new Tensor<T>(pointsPerClass * classes, 2);
        var y = new int[pointsPerClass * classes];
        for (int k = 0; k < classes; k++)
        {
            for (int i = 0; i < pointsPerClass; i++)
            {
                int n = k * pointsPerClass + i;
                double r = pointsPerClass == 1 ? 0 : (double)i / (pointsPerClass - 1);
                double theta = k * 4.0 + 4.0 * r + noise * rng.NextNormal();
                x[n, 0] = T.CreateChecked(r * Math.Sin(theta));
                x[n, 1] = T.CreateChecked(r * Math.Cos(theta));
                y[n] = k;
            }
        }
        return new Dataset<T>(x, y, classes);
    }

    /// <summary>Two interleaving half circles (scikit-learn's make_moons), n points in total, Gaussian noise.</summary>
    public static Dataset<T> Moons<T>(int n = 200, double noise = 0.1, ulong seed = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var x = new Tensor<T>(n, 2);
        var y = new int[n];
        int nOuter = n / 2;
        for (int i = 0; i < n; i++)
        {
            bool outer = i < nOuter;
            int count = outer ? nOuter : n - nOuter, j = outer ? i : i - nOuter;
            double t = Math.PI * (count == 1 ? 0 : (double)j / (count - 1));
            double px = outer ? Math.Cos(t) : 1 - Math.Cos(t);
            double py = outer ? Math.Sin(t) : 0.5 - Math.Sin(t);
            x[i, 0] = T.CreateChecked(px + noise * rng.NextNormal());
            x[i, 1] = T.CreateChecked(py + noise * rng.NextNormal());
            y[i] = outer ? 0 : 1;
        }
        return new Dataset<T>(x, y, 2);
    }

    /// <summary>Two concentric circles (scikit-learn's make_circles): the inner one has radius <paramref name="factor"/>.</summary>
    public static Dataset<T> Circles<T>(int n = 200, double noise = 0.05, double factor = 0.5, ulong seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "Circles: factor must be in (0, 1).");
        var rng = new Rng(seed);
        var x = new Tensor<T>(n, 2);
        var y = new int[n];
        int nOuter = n / 2;
        for (int i = 0; i < n; i++)
        {
            bool outer = i < nOuter;
            int count = outer ? nOuter : n - nOuter, j = outer ? i : i - nOuter;
            double t = 2 * Math.PI * j / Math.Max(1, count);
            double r = outer ? 1 : factor;
            x[i, 0] = T.CreateChecked(r * Math.Cos(t) + noise * rng.NextNormal());
            x[i, 1] = T.CreateChecked(r * Math.Sin(t) + noise * rng.NextNormal());
            y[i] = outer ? 0 : 1;
        }
        return new Dataset<T>(x, y, 2);
    }
}
