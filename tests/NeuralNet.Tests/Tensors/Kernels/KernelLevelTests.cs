using System.Numerics;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

/// <summary>
/// The tuned elementwise, reduction, optimizer and BatchNorm kernels against their plain-loop references
/// (<see cref="ElementwiseReference"/>, <see cref="OptimizerKernelsReference"/>, <see cref="BatchNormKernelsReference"/>)
/// at every instruction set this machine runs (<see cref="Simd.Supported"/>), every length 0–67 plus 129 and 300,
/// float and double. At <see cref="SimdLevel.Scalar"/> only the scalar forms run, so there every kernel must equal its
/// reference to the bit.
/// </summary>
[Collection("Serial")]
public class KernelLevelTests
{
    private const double Slope = 0.01;

    public static TheoryData<string> ElementwiseKernels() =>
        new("relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward", "sigmoid_forward", "sigmoid_backward",
            "tanh_forward", "tanh_backward", "add", "subtract", "multiply", "multiply_add", "add_scalar", "multiply_scalar", "affine");

    public static TheoryData<string> Reductions() => new("sum", "sum_of_squares", "dot", "max");

    public static TheoryData<string> Optimizers() =>
        new("sgd", "sgd_momentum", "sgd_dampening", "sgd_nesterov", "adam", "adam_weight_decay", "adamw", "rmsprop", "rmsprop_momentum",
            "rmsprop_centered", "rmsprop_centered_momentum");

    // ---- elementwise ----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(ElementwiseKernels))]
    public void Float_elementwise_kernel_matches_reference_at_every_level(string kernel) => CheckElementwise<float>(kernel);

    [Theory]
    [MemberData(nameof(ElementwiseKernels))]
    public void Double_elementwise_kernel_matches_reference_at_every_level(string kernel) => CheckElementwise<double>(kernel);

    [Theory]
    [MemberData(nameof(ElementwiseKernels))]
    public void Elementwise_kernel_works_in_place_at_every_level(string kernel)
    {
        SimdLevels.ForEach(level =>
        {
            foreach (int n in new[] { 1, 17, 67, 300 })
            {
                var (a, b, c) = Inputs<double>(kernel, n, new Rng((ulong)n));
                var expected = new double[n];
                RunReference<double>(kernel, a, b, c, expected);
                // Forward kernels overwrite their input, backward and binary ones their second operand.
                var inout = IsUnary(kernel) ? a : b;
                Run<double>(kernel, a, b, c, inout);
                for (int i = 0; i < n; i++) AssertClose(kernel, expected[i], inout[i], $"{level} {kernel} in place, length {n}, index {i}");
            }
        });
    }

    [Fact]
    public void Activations_of_special_values_agree_on_every_level()
    {
        double[] x = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1000, -1000, 20, -20, 1e-300, -1e-300,
            88, -88, 710, -710, 0.5, double.NaN, 3];
        foreach (string kernel in new[] { "relu_forward", "leaky_relu_forward", "sigmoid_forward", "tanh_forward" })
        {
            var expected = new double[x.Length];
            RunReference<double>(kernel, x, x, x, expected);
            var xf = x.Select(v => (float)v).ToArray();
            var expectedF = new float[x.Length];
            RunReference<float>(kernel, xf, xf, xf, expectedF);
            SimdLevels.ForEach(level =>
            {
                var y = new double[x.Length];
                Run<double>(kernel, x, x, x, y);
                var yf = new float[x.Length];
                Run<float>(kernel, xf, xf, xf, yf);
                for (int i = 0; i < x.Length; i++)
                {
                    AssertClose(kernel, expected[i], y[i], $"{level} double {kernel}({x[i]})");
                    AssertClose(kernel, expectedF[i], yf[i], $"{level} float {kernel}({xf[i]})");
                }
            });
        }
    }

    // ---- reductions -----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Float_reduction_matches_reference_at_every_level(string reduction) => CheckReduction<float>(reduction, 1e-6);

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Double_reduction_matches_reference_at_every_level(string reduction) => CheckReduction<double>(reduction, 1e-15);

    [Fact]
    public void Max_is_NaN_when_any_element_is_at_every_level()
    {
        SimdLevels.ForEach(level =>
        {
            foreach (int n in new[] { 1, 8, 16, 17, 64, 67, 300 })
            {
                for (int at = 0; at < n; at += Math.Max(1, n / 7))
                {
                    var x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
                    x[at] = float.NaN;
                    Assert.True(float.IsNaN(Elementwise.Max<float>(x)), $"{level}: max of {n} with NaN at {at}");
                }
            }
            Assert.Equal(float.NegativeInfinity, Elementwise.Max<float>([]));
        });
    }

    // ---- row kernels ----------------------------------------------------------------------------

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(5, 17)]
    [InlineData(4, 67)]
    [InlineData(2, 300)]
    public void Row_kernels_match_the_naive_formulas_at_every_level(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 1000 + cols));
        double[] x = Enumerable.Range(0, rows * cols).Select(_ => 3 * rng.NextNormal()).ToArray();
        double[] dy = Enumerable.Range(0, rows * cols).Select(_ => rng.NextNormal()).ToArray();
        double[] bias = Enumerable.Range(0, cols).Select(_ => rng.NextNormal()).ToArray();
        SimdLevels.ForEach(level =>
        {
            var y = new double[x.Length];
            RowOps.Softmax<double>(x, y, cols);
            var dx = new double[x.Length];
            RowOps.SoftmaxBackward<double>(y, dy, dx, cols);
            var p = new double[x.Length];
            var lse = new double[rows];
            RowOps.LogSoftmaxParts<double>(x, p, lse);
            var columnSums = (double[])bias.Clone();
            RowOps.AccumulateColumnSums<double>(x, columnSums);
            var rowSums = new double[rows];
            RowOps.AccumulateRowSums<double>(x, rowSums);
            for (int r = 0; r < rows; r++)
            {
                int o = r * cols;
                double sumExp = 0, dot = 0, rowSum = 0;
                for (int c = 0; c < cols; c++) (sumExp, rowSum) = (sumExp + Math.Exp(x[o + c]), rowSum + x[o + c]);
                for (int c = 0; c < cols; c++) dot += dy[o + c] * Math.Exp(x[o + c]) / sumExp;
                Close(Math.Log(sumExp), lse[r], $"lse[{r}]");
                Close(rowSum, rowSums[r], $"row sum {r}");
                for (int c = 0; c < cols; c++)
                {
                    double softmax = Math.Exp(x[o + c]) / sumExp;
                    Close(softmax, y[o + c], $"softmax[{r}, {c}]");
                    Close(softmax, p[o + c], $"exp(x − lse)[{r}, {c}]");
                    Close(softmax * (dy[o + c] - dot), dx[o + c], $"softmax backward[{r}, {c}]");
                }
            }
            for (int c = 0; c < cols; c++)
            {
                double sum = bias[c];
                for (int r = 0; r < rows; r++) sum += x[r * cols + c];
                Close(sum, columnSums[c], $"column sum {c}");
            }

            void Close(double expected, double actual, string what) =>
                Assert.True(Math.Abs(expected - actual) <= 1e-13 * Math.Max(1, Math.Abs(expected)), $"{level} ({rows}, {cols}) {what}: expected {expected:R}, got {actual:R}");
        });
    }

    // ---- optimizers -----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Float_optimizer_update_equals_reference_to_the_bit_at_every_level(string optimizer) => CheckOptimizer<float>(optimizer);

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Double_optimizer_update_equals_reference_to_the_bit_at_every_level(string optimizer) => CheckOptimizer<double>(optimizer);

    // ---- batch normalization --------------------------------------------------------------------

    [Theory]
    [InlineData(2, 3, 1)]
    [InlineData(4, 2, 67)]
    [InlineData(3, 5, 17)]
    [InlineData(8, 4, 49)]
    [InlineData(1, 2, 300)]
    public void BatchNorm_kernels_match_reference_at_every_level(int n, int channels, int spatial)
    {
        CheckBatchNorm<double>(n, channels, spatial, 1e-12);
        CheckBatchNorm<float>(n, channels, spatial, 2e-5);
    }

    // ---- drivers --------------------------------------------------------------------------------

    private static bool IsUnary(string kernel) =>
        kernel is "relu_forward" or "leaky_relu_forward" or "sigmoid_forward" or "tanh_forward" or "add_scalar" or "multiply_scalar" or "affine";

    private static bool HasTranscendental(string kernel) => kernel is "sigmoid_forward" or "tanh_forward";

    private static T Of<T>(double v) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateChecked(v);

    /// <summary>Three operands for a kernel; the first is a valid saved output for the backward kernels that read one.</summary>
    private static (T[] A, T[] B, T[] C) Inputs<T>(string kernel, int n, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[n];
        var b = new T[n];
        var c = new T[n];
        for (int i = 0; i < n; i++)
        {
            // N(0, 3²) with exact zeros and a few large values sprinkled in.
            double v = i % 11 == 5 ? 0.0 : i % 13 == 7 ? 20 * rng.NextNormal() : 3 * rng.NextNormal();
            a[i] = Of<T>(v);
            b[i] = Of<T>(rng.NextNormal());
            c[i] = Of<T>(rng.NextNormal());
        }
        switch (kernel)
        {
            case "relu_backward": for (int i = 0; i < n; i++) a[i] = T.Max(a[i], T.Zero); break;
            case "sigmoid_backward": for (int i = 0; i < n; i++) a[i] = T.One / (T.One + T.Exp(-a[i])); break;
            case "tanh_backward": for (int i = 0; i < n; i++) a[i] = T.Tanh(a[i]); break;
        }
        return (a, b, c);
    }

    private static void Run<T>(string kernel, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T slope = Of<T>(Slope), s = Of<T>(0.75), t = Of<T>(-1.25);
        switch (kernel)
        {
            case "relu_forward": Elementwise.ReluForward(a, dst); break;
            case "relu_backward": Elementwise.ReluBackward(a, b, dst); break;
            case "leaky_relu_forward": Elementwise.LeakyReluForward(a, slope, dst); break;
            case "leaky_relu_backward": Elementwise.LeakyReluBackward(a, b, slope, dst); break;
            case "sigmoid_forward": Elementwise.SigmoidForward(a, dst); break;
            case "sigmoid_backward": Elementwise.SigmoidBackward(a, b, dst); break;
            case "tanh_forward": Elementwise.TanhForward(a, dst); break;
            case "tanh_backward": Elementwise.TanhBackward(a, b, dst); break;
            case "add": Elementwise.Add(a, b, dst); break;
            case "subtract": Elementwise.Subtract(a, b, dst); break;
            case "multiply": Elementwise.Multiply(a, b, dst); break;
            case "multiply_add": Elementwise.MultiplyAdd(a, b, c, dst); break;
            case "add_scalar": Elementwise.Add(a, s, dst); break;
            case "multiply_scalar": Elementwise.Multiply(a, s, dst); break;
            case "affine": Elementwise.Affine(a, s, t, dst); break;
            default: throw new ArgumentException(kernel);
        }
    }

    private static void RunReference<T>(string kernel, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T slope = Of<T>(Slope), s = Of<T>(0.75), t = Of<T>(-1.25);
        switch (kernel)
        {
            case "relu_forward": ElementwiseReference.ReluForward(a, dst); break;
            case "relu_backward": ElementwiseReference.ReluBackward(a, b, dst); break;
            case "leaky_relu_forward": ElementwiseReference.LeakyReluForward(a, slope, dst); break;
            case "leaky_relu_backward": ElementwiseReference.LeakyReluBackward(a, b, slope, dst); break;
            case "sigmoid_forward": ElementwiseReference.SigmoidForward(a, dst); break;
            case "sigmoid_backward": ElementwiseReference.SigmoidBackward(a, b, dst); break;
            case "tanh_forward": ElementwiseReference.TanhForward(a, dst); break;
            case "tanh_backward": ElementwiseReference.TanhBackward(a, b, dst); break;
            case "add": ElementwiseReference.Add(a, b, dst); break;
            case "subtract": ElementwiseReference.Subtract(a, b, dst); break;
            case "multiply": ElementwiseReference.Multiply(a, b, dst); break;
            case "multiply_add": ElementwiseReference.MultiplyAdd(a, b, c, dst); break;
            case "add_scalar": ElementwiseReference.Add(a, s, dst); break;
            case "multiply_scalar": ElementwiseReference.Multiply(a, s, dst); break;
            case "affine": ElementwiseReference.Affine(a, s, t, dst); break;
            default: throw new ArgumentException(kernel);
        }
    }

    /// <summary>
    /// Exact for everything but the vector e^x: sigmoid 1e-6 (float) / 1e-14 (double) relative; tanh's vector form is
    /// accurate to an ulp of 1 near 0 (1 − e cancels), hence an absolute tolerance of about 2 ulp at 1.
    /// </summary>
    private static (double Rel, double Abs) Tolerance<T>(string kernel) => (kernel, typeof(T) == typeof(float)) switch
    {
        ("tanh_forward", true) => (0, 2.5e-7),
        ("tanh_forward", false) => (0, 5e-16),
        ("sigmoid_forward", true) => (1e-6, 1e-30),
        ("sigmoid_forward", false) => (1e-14, 1e-300),
        _ => (0, 0),
    };

    private static void AssertClose<T>(string kernel, T expected, T actual, string context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (T.IsNaN(expected) && T.IsNaN(actual)) return;
        var (rel, abs) = Tolerance<T>(kernel);
        double e = double.CreateChecked(expected), a = double.CreateChecked(actual);
        if (rel == 0 && abs == 0)
        {
            if (!expected.Equals(actual)) Assert.Fail($"{context}: expected {e:R}, got {a:R} (must be identical)");
            return;
        }
        if (e == a) return; // also ±∞
        double tol = rel * Math.Abs(e) + abs;
        if (!(Math.Abs(a - e) <= tol))
            Assert.Fail($"{context}: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E2} > tol {tol:E2})");
    }

    private static void CheckElementwise<T>(string kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SimdLevels.ForEach(level =>
        {
            foreach (int n in SimdLevels.Lengths)
            {
                var (a, b, c) = Inputs<T>(kernel, n, new Rng((ulong)(1000 + n)));
                var expected = new T[n];
                RunReference<T>(kernel, a, b, c, expected);
                // The destination is a window [1, n + 1) of a NaN-filled buffer: every element in it must be written and
                // the sentinels on either side must survive.
                var buffer = new T[n + 2];
                buffer.AsSpan().Fill(T.NaN);
                Run<T>(kernel, a, b, c, buffer.AsSpan(1, n));
                string exact = level == SimdLevel.Scalar ? "" : kernel; // the scalar level must match the reference exactly
                for (int i = 0; i < n; i++)
                    AssertClose(exact, expected[i], buffer[i + 1], $"{level} {typeof(T).Name} {kernel}, length {n}, index {i}, input {a[i]}");
                Assert.True(T.IsNaN(buffer[0]) && T.IsNaN(buffer[n + 1]), $"{level} {kernel}, length {n}: wrote outside the destination");
            }
        });
    }

    private static void CheckReduction<T>(string reduction, double rel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SimdLevels.ForEach(level =>
        {
            foreach (int n in SimdLevels.Lengths)
            {
                var (a, b, _) = Inputs<T>("add", n, new Rng((ulong)(7 + n)));
                T expected, actual;
                double scale = 0; // Σ|terms|, what rounding errors of a sum scale with
                switch (reduction)
                {
                    case "sum": expected = ElementwiseReference.Sum<T>(a); actual = Elementwise.Sum<T>(a); scale = a.Sum(v => Math.Abs(double.CreateChecked(v))); break;
                    case "sum_of_squares": expected = ElementwiseReference.SumOfSquares<T>(a); actual = Elementwise.SumOfSquares<T>(a); scale = a.Sum(v => double.CreateChecked(v * v)); break;
                    case "dot": expected = ElementwiseReference.Dot<T>(a, b); actual = Elementwise.Dot<T>(a, b); scale = a.Zip(b).Sum(p => Math.Abs(double.CreateChecked(p.First * p.Second))); break;
                    case "max": expected = ElementwiseReference.Max<T>(a); actual = Elementwise.Max<T>(a); break;
                    default: throw new ArgumentException(reduction);
                }
                string context = $"{level} {typeof(T).Name} {reduction}, length {n}";
                if (level == SimdLevel.Scalar || reduction == "max")
                {
                    Assert.True(expected.Equals(actual), $"{context}: expected {expected}, got {actual} (must be identical)");
                    continue;
                }
                double e = double.CreateChecked(expected), g = double.CreateChecked(actual);
                Assert.True(Math.Abs(e - g) <= rel * scale, $"{context}: expected {e:R}, got {g:R} (tol {rel * scale:E2})");
            }
        });
    }

    private static void Step<T>(string optimizer, bool reference, Span<T> theta, ReadOnlySpan<T> grad, Span<T> s0, Span<T> s1, Span<T> s2, long step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (optimizer)
        {
            case "sgd":
                if (reference) OptimizerKernelsReference.Sgd(theta, grad, 0.1, 0.01);
                else OptimizerKernels.Sgd(theta, grad, 0.1, 0.01);
                break;
            case "sgd_momentum" or "sgd_dampening" or "sgd_nesterov":
                double damp = optimizer == "sgd_dampening" ? 0.3 : 0;
                bool nesterov = optimizer == "sgd_nesterov";
                if (reference) OptimizerKernelsReference.SgdMomentum(theta, grad, s0, 0.1, 0.01, 0.9, damp, nesterov, step == 1);
                else OptimizerKernels.SgdMomentum(theta, grad, s0, 0.1, 0.01, 0.9, damp, nesterov, step == 1);
                break;
            case "adam" or "adam_weight_decay" or "adamw":
                double wd = optimizer == "adam" ? 0 : 0.05;
                bool decoupled = optimizer == "adamw";
                if (reference) OptimizerKernelsReference.Adam(theta, grad, s0, s1, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, step);
                else OptimizerKernels.Adam(theta, grad, s0, s1, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, step);
                break;
            default:
                double mu = optimizer.EndsWith("momentum", StringComparison.Ordinal) ? 0.5 : 0;
                bool centered = optimizer.Contains("centered", StringComparison.Ordinal);
                Span<T> b = mu > 0 ? s1 : default, gAvg = centered ? s2 : default;
                if (reference) OptimizerKernelsReference.RmsProp(theta, grad, s0, b, gAvg, 1e-2, 0.9, 1e-8, 0.01, mu, centered);
                else OptimizerKernels.RmsProp(theta, grad, s0, b, gAvg, 1e-2, 0.9, 1e-8, 0.01, mu, centered);
                break;
        }
    }

    private static void CheckOptimizer<T>(string optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SimdLevels.ForEach(level => CheckOptimizerAt<T>(level, optimizer, SimdLevels.Lengths));
    }

    private static void CheckOptimizerAt<T>(SimdLevel level, string optimizer, int[] lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in lengths)
        {
            var rng = new Rng((ulong)(31 + n));
            T[] theta = Enumerable.Range(0, n).Select(_ => Of<T>(rng.NextNormal())).ToArray();
            var states = Enumerable.Range(0, 3).Select(_ => new T[n]).ToArray();
            T[] theta2 = (T[])theta.Clone();
            var states2 = Enumerable.Range(0, 3).Select(_ => new T[n]).ToArray();
            for (long step = 1; step <= 3; step++)
            {
                T[] grad = Enumerable.Range(0, n).Select(_ => Of<T>(rng.NextNormal())).ToArray();
                Step<T>(optimizer, reference: true, theta, grad, states[0], states[1], states[2], step);
                Step<T>(optimizer, reference: false, theta2, grad, states2[0], states2[1], states2[2], step);
                for (int i = 0; i < n; i++)
                {
                    if (!theta[i].Equals(theta2[i])) Assert.Fail($"{level} {typeof(T).Name} {optimizer}, length {n}, step {step}, θ[{i}]: {theta[i]} vs {theta2[i]}");
                    for (int s = 0; s < 3; s++)
                        if (!states[s][i].Equals(states2[s][i])) Assert.Fail($"{level} {typeof(T).Name} {optimizer}, length {n}, step {step}, state {s}[{i}]");
                }
            }
        }
    }

    private static void CheckBatchNorm<T>(int n, int channels, int spatial, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)(n * 100 + channels * 10 + spatial));
        int len = n * channels * spatial;
        T[] x = Enumerable.Range(0, len).Select(_ => Of<T>(2 + 3 * rng.NextNormal())).ToArray();
        T[] dy = Enumerable.Range(0, len).Select(_ => Of<T>(rng.NextNormal())).ToArray();
        T[] gamma = Enumerable.Range(0, channels).Select(_ => Of<T>(1 + 0.3 * rng.NextNormal())).ToArray();
        T[] beta = Enumerable.Range(0, channels).Select(_ => Of<T>(rng.NextNormal())).ToArray();
        foreach (bool training in new[] { true, false })
        {
            double[] runMean = Enumerable.Range(0, channels).Select(_ => rng.NextNormal()).ToArray();
            double[] runVar = Enumerable.Range(0, channels).Select(_ => 0.5 + rng.NextDouble()).ToArray();
            var (eMean, eVar, eRstd) = ((double[])runMean.Clone(), (double[])runVar.Clone(), new double[channels]);
            T[] eY = new T[len], eYRelu = new T[len], eDx = new T[len], eDg = new T[channels], eDb = new T[channels];
            BatchNormKernelsReference.Forward<T>(x, n, channels, spatial, training, eMean, eVar, 1e-5, gamma, beta, eY, eRstd);
            BatchNormKernelsReference.Forward<T>(x, n, channels, spatial, training, (double[])eMean.Clone(), (double[])eVar.Clone(), 1e-5,
                gamma, beta, eYRelu, new double[channels], relu: true);
            BatchNormKernelsReference.Backward<T>(dy, x, n, channels, spatial, training, gamma, eMean, eRstd, eDg, eDb, eDx);
            T[] eDxRelu = new T[len], eDgRelu = new T[channels], eDbRelu = new T[channels];
            BatchNormKernelsReference.Backward<T>(dy, x, n, channels, spatial, training, gamma, eMean, eRstd, eDgRelu, eDbRelu, eDxRelu, beta);
            SimdLevels.ForEach(level =>
            {
                var (mean, variance, rstd) = ((double[])runMean.Clone(), (double[])runVar.Clone(), new double[channels]);
                T[] y = new T[len], yRelu = new T[len], dx = new T[len], dg = new T[channels], db = new T[channels];
                BatchNormKernels.Forward<T>(x, n, channels, spatial, training, (double[])mean.Clone(), (double[])variance.Clone(), 1e-5,
                    gamma, beta, yRelu, new double[channels], relu: true);
                BatchNormKernels.Forward<T>(x, n, channels, spatial, training, mean, variance, 1e-5, gamma, beta, y, rstd);
                BatchNormKernels.Backward<T>(dy, x, n, channels, spatial, training, gamma, mean, rstd, dg, db, dx);
                T[] dxRelu = new T[len], dgRelu = new T[channels], dbRelu = new T[channels];
                BatchNormKernels.Backward<T>(dy, x, n, channels, spatial, training, gamma, mean, rstd, dgRelu, dbRelu, dxRelu, beta); // the mask recomputed from x
                string context = $"{level} {typeof(T).Name} ({n}, {channels}, {spatial}) training={training}";
                Close(eMean, mean, "mean");
                Close(eVar, variance, "variance");
                Close(eRstd, rstd, "rstd");
                Close(eY, y, "y");
                Close(eYRelu, yRelu, "max(0, y)");
                Close(eDx, dx, "dx");
                Close(eDxRelu, dxRelu, "dx after max(0, y)");
                Close(eDgRelu, dgRelu, "dγ after max(0, y)", sum: true);
                Close(eDbRelu, dbRelu, "dβ after max(0, y)", sum: true);
                Close(eDg, dg, "dγ", sum: true);
                Close(eDb, db, "dβ", sum: true);

                // dγ and dβ are sums over a channel's m = N·S values (float terms summed in float per slice): their
                // rounding grows like √m, the more so when a ReLU's mask leaves terms that cancel.
                void Close<TValue>(TValue[] expected, TValue[] actual, string what, bool sum = false) where TValue : INumberBase<TValue>
                {
                    double bound = sum ? tol * Math.Sqrt(n * spatial) : tol;
                    for (int i = 0; i < expected.Length; i++)
                    {
                        double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
                        Assert.True(Math.Abs(e - a) <= bound * Math.Max(1, Math.Abs(e)), $"{context} {what}[{i}]: expected {e:R}, got {a:R}");
                    }
                }
            });
        }
    }
}
