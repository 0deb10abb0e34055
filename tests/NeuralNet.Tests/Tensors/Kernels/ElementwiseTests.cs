using System.Numerics;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

/// <summary>
/// The activation kernels and row kernels against scalar formulas written here, TensorPrimitives-style:
/// every length 0–256 (so every vector width's body and tail), float and double, a fixed seed, and a tolerance
/// scaled by the expected value's magnitude.
/// </summary>
public class ElementwiseTests
{
    private const int MaxLength = 256;
    private const double Slope = 0.01;

    public static TheoryData<string> Kernels() =>
        new("relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
            "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward");

    // Float: 1e-6 relative (≈ 8 ulp); double: 1e-14 relative (≈ 45 ulp); the floors only matter for results near 0.
    // NOTE: tanh_forward gets an absolute tolerance of about 1.5 ulp at 1 instead: the vector form (1 − e)/(1 + e),
    // e = e^(−2|x|), is not relatively accurate near 0, where 1 − e cancels.
    private static (double Rel, double Abs) Tolerance<T>(string kernel) => (kernel, typeof(T) == typeof(float)) switch
    {
        ("tanh_forward", true) => (0, 2e-7),
        ("tanh_forward", false) => (0, 5e-16),
        (_, true) => (1e-6, 1e-12),
        _ => (1e-14, 1e-30),
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Float_kernel_matches_scalar_formula_at_every_length(string kernel) => CheckAllLengths<float>(kernel);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Double_kernel_matches_scalar_formula_at_every_length(string kernel) => CheckAllLengths<double>(kernel);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Float_kernel_works_in_place(string kernel) => CheckInPlace<float>(kernel);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Double_kernel_works_in_place(string kernel) => CheckInPlace<double>(kernel);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Mismatched_lengths_throw(string kernel)
    {
        var a = new double[9];
        var b = new double[9];
        var shortDst = new double[8];
        var ex = Assert.Throws<ShapeMismatchException>(() => Run<double>(kernel, a, b, shortDst));
        Assert.Contains("9", ex.Message);
        Assert.Contains("8", ex.Message);
        if (kernel.EndsWith("backward", StringComparison.Ordinal))
            Assert.Throws<ShapeMismatchException>(() => Run<double>(kernel, a, new double[10], new double[9]));
    }

    [Fact]
    public void Relu_backward_at_zero_output_is_zero_and_leaky_at_zero_input_uses_the_slope()
    {
        double[] zero = [0.0, -0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        double[] dy = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var dx = new double[9];
        Elementwise.ReluBackward<double>(zero, dy, dx);
        Assert.All(dx, v => Assert.Equal(0.0, v));
        Elementwise.LeakyReluBackward<double>(zero, dy, 0.5, dx);
        Assert.Equal(dy.Select(v => 0.5 * v), dx);
    }

    // ---- drivers --------------------------------------------------------------------------------

    private static T FromDouble<T>(double v) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateChecked(v);

    /// <summary>Inputs for one kernel: the first operand (x, or y saved by forward) and dy.</summary>
    private static (T[] A, T[] Dy) Inputs<T>(string kernel, int n, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[n];
        var dy = new T[n];
        for (int i = 0; i < n; i++)
        {
            // N(0, 3²) with exact zeros and a few large values sprinkled in.
            double v = i % 11 == 5 ? 0.0 : i % 13 == 7 ? 20 * rng.NextNormal() : 3 * rng.NextNormal();
            x[i] = FromDouble<T>(v);
            dy[i] = FromDouble<T>(rng.NextNormal());
        }
        // Backward kernels that read the forward output get a valid output.
        switch (kernel)
        {
            case "relu_backward": for (int i = 0; i < n; i++) x[i] = T.Max(x[i], T.Zero); break;
            case "sigmoid_backward": for (int i = 0; i < n; i++) x[i] = T.One / (T.One + T.Exp(-x[i])); break;
            case "tanh_backward": for (int i = 0; i < n; i++) x[i] = T.Tanh(x[i]); break;
        }
        return (x, dy);
    }

    /// <summary>The scalar spec of each kernel.</summary>
    private static T Expected<T>(string kernel, T a, T dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T slope = FromDouble<T>(Slope);
        return kernel switch
        {
            "relu_forward" => a > T.Zero ? a : T.Zero,
            "relu_backward" => a > T.Zero ? dy : T.Zero,                 // a = y
            "leaky_relu_forward" => a > T.Zero ? a : slope * a,
            "leaky_relu_backward" => a > T.Zero ? dy : slope * dy,      // a = x
            "sigmoid_forward" => T.One / (T.One + T.Exp(-a)),
            "sigmoid_backward" => dy * a * (T.One - a),                  // a = y
            "tanh_forward" => T.Tanh(a),
            "tanh_backward" => dy * (T.One - a * a),                     // a = y
            _ => throw new ArgumentException(kernel),
        };
    }

    private static void Run<T>(string kernel, ReadOnlySpan<T> a, ReadOnlySpan<T> dy, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T slope = FromDouble<T>(Slope);
        switch (kernel)
        {
            case "relu_forward": Elementwise.ReluForward(a, dst); break;
            case "relu_backward": Elementwise.ReluBackward(a, dy, dst); break;
            case "leaky_relu_forward": Elementwise.LeakyReluForward(a, slope, dst); break;
            case "leaky_relu_backward": Elementwise.LeakyReluBackward(a, dy, slope, dst); break;
            case "sigmoid_forward": Elementwise.SigmoidForward(a, dst); break;
            case "sigmoid_backward": Elementwise.SigmoidBackward(a, dy, dst); break;
            case "tanh_forward": Elementwise.TanhForward(a, dst); break;
            case "tanh_backward": Elementwise.TanhBackward(a, dy, dst); break;
            default: throw new ArgumentException(kernel);
        }
    }

    private static void AssertClose<T>(string kernel, T expected, T actual, string context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rel, abs) = Tolerance<T>(kernel);
        double e = double.CreateChecked(expected), a = double.CreateChecked(actual);
        double tol = rel * Math.Abs(e) + abs;
        if (!(Math.Abs(a - e) <= tol))
            Assert.Fail($"{context}: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E2} > tol {tol:E2})");
    }

    private static void CheckAllLengths<T>(string kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var rng = new Rng((ulong)(1000 + n));
            var (a, dy) = Inputs<T>(kernel, n, rng);
            // The destination is a window [1, n+1) of a NaN-filled buffer: every element in the window must be
            // written, and the sentinels on either side must survive (no write past the span).
            var buffer = new T[n + 2];
            buffer.AsSpan().Fill(T.NaN);
            var dst = buffer.AsSpan(1, n);
            Run<T>(kernel, a, dy, dst);
            for (int i = 0; i < n; i++)
                AssertClose(kernel, Expected(kernel, a[i], dy[i]), dst[i], $"{typeof(T).Name} {kernel}, length {n}, index {i}, input {a[i]}");
            Assert.True(T.IsNaN(buffer[0]) && T.IsNaN(buffer[n + 1]), $"{kernel}, length {n}: wrote outside the destination");
        }
    }

    private static void CheckInPlace<T>(string kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in new[] { 1, 3, 7, 17, 33, 129, 256 })
        {
            var (a, dy) = Inputs<T>(kernel, n, new Rng((ulong)n));
            var expected = new T[n];
            for (int i = 0; i < n; i++) expected[i] = Expected(kernel, a[i], dy[i]);

            // Forward overwrites its input; backward overwrites the incoming gradient.
            bool backward = kernel.EndsWith("backward", StringComparison.Ordinal);
            var inout = backward ? dy : a;
            Run<T>(kernel, a, dy, inout);
            for (int i = 0; i < n; i++) AssertClose(kernel, expected[i], inout[i], $"{typeof(T).Name} {kernel} in place, length {n}, index {i}");
        }
    }
}
