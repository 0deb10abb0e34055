using System.Numerics;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

/// <summary>The row kernels (bias add, column sums, softmax family) against plain loops written here.</summary>
public class RowOpsTests
{
    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int>();
        foreach (int rows in new[] { 1, 3, 17 })
            foreach (int cols in new[] { 1, 3, 7, 17, 129 })
                data.Add(rows, cols);
        return data;
    }

    private static T[] Random<T>(Rng rng, int n, double scale = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[n];
        for (int i = 0; i < n; i++) a[i] = T.CreateChecked(scale * rng.NextNormal());
        return a;
    }

    private static void AssertClose(double expected, double actual, double rel, string context)
    {
        double tol = rel * Math.Max(1.0, Math.Abs(expected));
        if (!(Math.Abs(actual - expected) <= tol))
            Assert.Fail($"{context}: expected {expected:R}, got {actual:R} (tol {tol:E2})");
    }

    // ---- bias add and bias gradient -------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Sizes))]
    public void BroadcastRows_copies_the_vector_into_every_row(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols));
        var v = Random<float>(rng, cols);
        var m = new float[rows * cols];
        m.AsSpan().Fill(float.NaN);
        RowOps.BroadcastRows<float>(v, m);
        for (int r = 0; r < rows; r++)
            Assert.Equal(v, m.AsSpan(r * cols, cols).ToArray());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AddRowVector_adds_the_vector_to_every_row(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols));
        var m = Random<double>(rng, rows * cols);
        var v = Random<double>(rng, cols);
        var before = (double[])m.Clone();
        RowOps.AddRowVector<double>(m, v);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                Assert.Equal(before[r * cols + c] + v[c], m[r * cols + c]);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AccumulateColumnSums_adds_to_existing_sums(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols));
        var m = Random<double>(rng, rows * cols);
        var initial = Random<double>(rng, cols);  // a gradient already holding a contribution
        var columnSums = new double[cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                columnSums[c] += m[r * cols + c];

        var sums = (double[])initial.Clone();
        RowOps.AccumulateColumnSums<double>(m, sums);
        for (int c = 0; c < cols; c++) AssertClose(initial[c] + columnSums[c], sums[c], 1e-14, $"column {c}");

        // A second call accumulates again (+=, never =).
        RowOps.AccumulateColumnSums<double>(m, sums);
        for (int c = 0; c < cols; c++) AssertClose(initial[c] + 2 * columnSums[c], sums[c], 1e-13, $"column {c}, second call");
    }

    [Fact]
    public void AccumulateColumnSums_float_matches_double()
    {
        var rng = new Rng(4);
        const int rows = 64, cols = 33;
        var m = Random<float>(rng, rows * cols);
        var sums = new float[cols];
        sums.AsSpan().Fill(10f);
        RowOps.AccumulateColumnSums<float>(m, sums);
        for (int c = 0; c < cols; c++)
        {
            double expected = 10;
            for (int r = 0; r < rows; r++) expected += m[r * cols + c];
            AssertClose(expected, sums[c], 1e-5, $"column {c}");
        }
    }

    [Fact]
    public void Row_kernels_reject_a_matrix_that_is_not_whole_rows()
    {
        var v = new double[3];
        var m = new double[10];
        var ex = Assert.Throws<ShapeMismatchException>(() => RowOps.BroadcastRows<double>(v, m));
        Assert.Contains("10", ex.Message);
        Assert.Contains("3", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => RowOps.AddRowVector<double>(m, v));
        Assert.Throws<ShapeMismatchException>(() => RowOps.AccumulateColumnSums<double>(m, v));
    }

    // ---- softmax --------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Softmax_rows_sum_to_one_and_match_the_naive_formula(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols));
        var x = Random<double>(rng, rows * cols, scale: 3);
        var y = new double[x.Length];
        RowOps.Softmax<double>(x, y, cols);

        var xf = x.Select(v => (float)v).ToArray();
        var yf = new float[x.Length];
        RowOps.Softmax<float>(xf, yf, cols);

        for (int r = 0; r < rows; r++)
        {
            double denominator = 0;
            for (int c = 0; c < cols; c++) denominator += Math.Exp(x[r * cols + c]);
            double rowSum = 0, rowSumF = 0;
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                double naive = Math.Exp(x[i]) / denominator;
                AssertClose(naive, y[i], 1e-14, $"double row {r} col {c}");
                AssertClose(naive, yf[i], 1e-6, $"float row {r} col {c}");
                Assert.True(y[i] > 0 && y[i] <= 1);
                rowSum += y[i];
                rowSumF += yf[i];
            }
            Assert.Equal(1.0, rowSum, 1e-14);
            Assert.Equal(1.0, rowSumF, 1e-5);
        }
    }

    [Fact]
    public void Softmax_is_finite_for_logits_of_plus_minus_1000()
    {
        const int cols = 4;
        double[] x = [1000, -1000, 1000, 0,     -1000, -1000, -1000, -1000,    1000, 999, -1000, 0];
        var y = new double[x.Length];
        RowOps.Softmax<double>(x, y, cols);
        Assert.All(y, v => Assert.True(double.IsFinite(v)));
        Assert.Equal([0.5, 0, 0.5, 0], y.AsSpan(0, 4).ToArray());
        Assert.Equal([0.25, 0.25, 0.25, 0.25], y.AsSpan(4, 4).ToArray());
        double e = Math.Exp(-1);
        AssertClose(1 / (1 + e), y[8], 1e-15, "1000 vs 999");
        AssertClose(e / (1 + e), y[9], 1e-15, "999 vs 1000");

        var xf = x.Select(v => (float)v).ToArray();
        var yf = new float[x.Length];
        RowOps.Softmax<float>(xf, yf, cols);
        Assert.All(yf, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0.5f, yf[0], 1e-6f);
        Assert.Equal(0.25f, yf[5], 1e-6f);
    }

    [Fact]
    public void Softmax_is_shift_invariant()
    {
        var rng = new Rng(21);
        const int cols = 10;
        var x = Random<double>(rng, cols);
        var shifted = x.Select(v => v + 500).ToArray();
        var y1 = new double[cols];
        var y2 = new double[cols];
        RowOps.Softmax<double>(x, y1, cols);
        RowOps.Softmax<double>(shifted, y2, cols);
        for (int i = 0; i < cols; i++) AssertClose(y1[i], y2[i], 1e-12, $"col {i}");
    }

    [Fact]
    public void Softmax_rejects_bad_sizes()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => RowOps.Softmax<double>(new double[10], new double[10], 3));
        Assert.Contains("Softmax", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => RowOps.Softmax<double>(new double[9], new double[6], 3));
        Assert.Throws<ShapeMismatchException>(() => RowOps.Softmax<double>(new double[9], new double[9], 0));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SoftmaxBackward_equals_the_jacobian_vector_product(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols + 7));
        var x = Random<double>(rng, rows * cols, scale: 2);
        var dy = Random<double>(rng, rows * cols);
        var y = new double[x.Length];
        RowOps.Softmax<double>(x, y, cols);
        var dx = new double[x.Length];
        dx.AsSpan().Fill(double.NaN);  // must be overwritten, not accumulated
        RowOps.SoftmaxBackward<double>(y, dy, dx, cols);

        var yf = y.Select(v => (float)v).ToArray();
        var dyf = dy.Select(v => (float)v).ToArray();
        var dxf = new float[x.Length];
        RowOps.SoftmaxBackward<float>(yf, dyf, dxf, cols);

        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            for (int j = 0; j < cols; j++)
            {
                // dx_j = Σ_i dy_i · ∂y_i/∂x_j = Σ_i dy_i · y_i (δ_ij − y_j)
                double expected = 0;
                for (int i = 0; i < cols; i++)
                    expected += dy[o + i] * y[o + i] * ((i == j ? 1.0 : 0.0) - y[o + j]);
                AssertClose(expected, dx[o + j], 1e-14, $"double row {r} col {j}");
                AssertClose(expected, dxf[o + j], 1e-6, $"float row {r} col {j}");
            }
        }
    }

    [Fact]
    public void SoftmaxBackward_of_a_uniform_upstream_gradient_is_zero()
    {
        // Softmax outputs sum to 1, so adding a constant to every dy changes nothing: J·1 = 0.
        var rng = new Rng(2);
        const int cols = 9;
        var y = new double[cols];
        RowOps.Softmax<double>(Random<double>(rng, cols), y, cols);
        var dy = Enumerable.Repeat(3.0, cols).ToArray();
        var dx = new double[cols];
        RowOps.SoftmaxBackward<double>(y, dy, dx, cols);
        Assert.All(dx, v => Assert.Equal(0.0, v, 1e-15));
    }

    [Fact]
    public void SoftmaxBackward_rejects_mismatched_lengths()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => RowOps.SoftmaxBackward<double>(new double[6], new double[9], new double[6], 3));
        Assert.Contains("SoftmaxBackward", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => RowOps.SoftmaxBackward<double>(new double[6], new double[6], new double[3], 3));
        Assert.Throws<ShapeMismatchException>(() => RowOps.SoftmaxBackward<double>(new double[7], new double[7], new double[7], 3));
    }

    // ---- log-sum-exp ----------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(129)]
    public void LogSumExp_matches_the_naive_formula(int cols)
    {
        var rng = new Rng((ulong)cols);
        var x = Random<double>(rng, cols, scale: 3);
        double naive = Math.Log(x.Sum(Math.Exp));
        AssertClose(naive, RowOps.LogSumExp<double>(x, new double[cols]), 1e-14, "double");
        var xf = x.Select(v => (float)v).ToArray();
        AssertClose(naive, RowOps.LogSumExp<float>(xf, new float[cols]), 1e-6, "float");
    }

    [Fact]
    public void LogSumExp_is_finite_for_large_logits()
    {
        Assert.Equal(1000 + Math.Log(2), RowOps.LogSumExp<double>([1000.0, 1000.0, -1000.0], new double[3]), 1e-12);
        Assert.Equal(-1000 + Math.Log(3), RowOps.LogSumExp<double>([-1000.0, -1000.0, -1000.0], new double[3]), 1e-12);
    }
}
