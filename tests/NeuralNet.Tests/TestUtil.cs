using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Tests;

internal static class TestUtil
{
    /// <summary>Asserts max |a − e| ≤ tol·max(1, |e|) elementwise, naming the first failing index.</summary>
    public static void AssertClose<T>(Tensor<T> expected, Tensor<T> actual, double tol, string what = "")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: shapes {expected.Shape} vs {actual.Shape}");
        var e = expected.ReadOnlySpan;
        var a = actual.ReadOnlySpan;
        for (int i = 0; i < e.Length; i++)
        {
            double ev = double.CreateChecked(e[i]), av = double.CreateChecked(a[i]);
            double err = Math.Abs(ev - av);
            Assert.True(err <= tol * Math.Max(1, Math.Abs(ev)), $"{what}[{i}]: expected {ev:R}, got {av:R} (|diff| {err:E2} > {tol:E0})");
        }
    }

    public static void AssertClose(double expected, double actual, double tol, string what = "")
    {
        double err = Math.Abs(expected - actual);
        Assert.True(err <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R} (|diff| {err:E2})");
    }
}
