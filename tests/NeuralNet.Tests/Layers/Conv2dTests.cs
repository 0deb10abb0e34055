using System.Numerics;
using NeuralNet.Layers;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Layers;

/// <summary>Conv2d against a direct 7-loop convolution (the spec), shapes, errors, init and thread independence.</summary>
[Collection("Serial")]
public class Conv2dTests
{
    /// <summary>y[n,o,oh,ow] = b[o] + Σ_c Σ_i Σ_j W[o,c,i,j]·x[n,c,oh·s−p+i, ow·s−p+j], with its three gradients, by plain loops.</summary>
    private static class Direct
    {
        public static Tensor<T> Forward<T>(Tensor<T> x, Tensor<T> w, Tensor<T>? b, int s, int p) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], o = w.Shape[0], k = w.Shape[2];
            int oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1;
            var y = new Tensor<T>(n, o, oh, ow);
            for (int ni = 0; ni < n; ni++)
                for (int oi = 0; oi < o; oi++)
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                        {
                            T sum = b is null ? T.Zero : b[oi];
                            for (int ci = 0; ci < c; ci++)
                                for (int i = 0; i < k; i++)
                                    for (int j = 0; j < k; j++)
                                    {
                                        int ih = r * s - p + i, iw = q * s - p + j;
                                        if (ih >= 0 && ih < h && iw >= 0 && iw < wd) sum += w.At(oi, ci, i, j) * x.At(ni, ci, ih, iw);
                                    }
                            y.At(ni, oi, r, q) = sum;
                        }
            return y;
        }

        /// <summary>(dx, dW, db) for upstream dy: each product in the forward sum sends dy·W to x and dy·x to W.</summary>
        public static (Tensor<T> Dx, Tensor<T> Dw, Tensor<T> Db) Backward<T>(Tensor<T> x, Tensor<T> w, Tensor<T> dy, int s, int p)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], o = w.Shape[0], k = w.Shape[2];
            int oh = dy.Shape[2], ow = dy.Shape[3];
            var dx = new Tensor<T>(x.Shape);
            var dw = new Tensor<T>(w.Shape);
            var db = new Tensor<T>(o);
            for (int ni = 0; ni < n; ni++)
                for (int oi = 0; oi < o; oi++)
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                        {
                            T g = dy.At(ni, oi, r, q);
                            db[oi] += g;
                            for (int ci = 0; ci < c; ci++)
                                for (int i = 0; i < k; i++)
                                    for (int j = 0; j < k; j++)
                                    {
                                        int ih = r * s - p + i, iw = q * s - p + j;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                        dx.At(ni, ci, ih, iw) += g * w.At(oi, ci, i, j);
                                        dw.At(oi, ci, i, j) += g * x.At(ni, ci, ih, iw);
                                    }
                        }
            return (dx, dw, db);
        }
    }

    [Theory]
    // H, W, k, stride, padding → Ho, Wo
    [InlineData(28, 28, 3, 1, 1, 28, 28)]
    [InlineData(14, 14, 3, 1, 1, 14, 14)]
    [InlineData(28, 28, 3, 2, 1, 14, 14)]
    [InlineData(28, 28, 5, 1, 0, 24, 24)]
    [InlineData(7, 9, 5, 2, 0, 2, 3)]
    [InlineData(7, 8, 3, 2, 0, 3, 3)]   // floor: (8 − 3)/2 + 1 = 3
    [InlineData(5, 5, 5, 1, 0, 1, 1)]
    [InlineData(1, 1, 3, 1, 1, 1, 1)]
    [InlineData(6, 6, 1, 1, 0, 6, 6)]
    [InlineData(6, 6, 1, 2, 1, 4, 4)]
    [InlineData(10, 4, 3, 3, 2, 4, 2)]
    public void Output_shape_follows_the_formula(int h, int w, int k, int s, int p, int oh, int ow)
    {
        var conv = new Conv2d<float>(2, 3, k, s, p, rng: new Rng(1));
        var y = conv.Forward(new Tensor<float>(2, 2, h, w));
        Assert.Equal(new Shape(2, 3, oh, ow), y.Shape);
        Assert.Equal(new Shape(2, 2, h, w), conv.Backward(new Tensor<float>(y.Shape)).Shape);
    }

    public static TheoryData<int, int, int, int, int, int, int, int, bool> Configurations() => new()
    {
        // N, C, O, k, s, p, H, W, bias
        { 3, 2, 4, 3, 1, 0, 7, 6, true },
        { 3, 2, 4, 3, 1, 1, 7, 6, true },
        { 2, 3, 5, 3, 2, 1, 9, 9, true },
        { 2, 3, 2, 5, 1, 2, 8, 7, false },
        { 2, 1, 3, 5, 2, 0, 11, 9, true },
        { 1, 4, 3, 1, 1, 0, 5, 5, true },
        { 2, 2, 2, 1, 2, 1, 5, 6, false },
        { 37, 3, 4, 3, 1, 1, 5, 5, true }, // more samples than chunks, uneven last chunk
        { 4, 32, 64, 3, 1, 1, 14, 14, true }, // the MNIST CNN's second layer
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Double_matches_the_direct_convolution_to_1e12(int n, int c, int o, int k, int s, int p, int h, int w, bool bias) =>
        MatchesDirect<double>(n, c, o, k, s, p, h, w, bias, 1e-12);

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Float_matches_the_direct_convolution_to_1e5(int n, int c, int o, int k, int s, int p, int h, int w, bool bias) =>
        MatchesDirect<float>(n, c, o, k, s, p, h, w, bias, 1e-5);

    /// <summary>
    /// The layer in T against the direct loops in double on the same values, so only the layer's round-off counts.
    /// Errors are measured against the largest expected magnitude: a dW entry sums N·Ho·Wo products (784 for the
    /// MNIST shape), whose float round-off is about 1e-5 of the typical partial sum, not of the (possibly small) result.
    /// </summary>
    private static void MatchesDirect<T>(int n, int c, int o, int k, int s, int p, int h, int w, bool bias, double tol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(2);
        var conv = new Conv2d<T>(c, o, k, s, p, bias, rng: rng);
        var x = Tensor<T>.RandomNormal(rng, 0, 1, n, c, h, w);
        var y = conv.Forward(x);
        var x64 = ToDouble(x);
        var w64 = ToDouble(conv.Weight.Value);
        AssertCloseScaled(Direct.Forward(x64, w64, conv.Bias is null ? null : ToDouble(conv.Bias.Value), s, p), ToDouble(y), tol, "y");

        var dy = Tensor<T>.RandomNormal(rng, 0, 1, y.Shape.ToArray());
        conv.ZeroGrad();
        var dx = conv.Backward(dy);
        var (edx, edw, edb) = Direct.Backward(x64, w64, ToDouble(dy), s, p);
        AssertCloseScaled(edx, ToDouble(dx), tol, "dx");
        AssertCloseScaled(edw, ToDouble(conv.Weight.Grad), tol, "dW");
        if (bias) AssertCloseScaled(edb, ToDouble(conv.Bias!.Grad), tol, "db");
    }

    /// <summary>max |a − e| ≤ tol·max(1, max |e|).</summary>
    private static void AssertCloseScaled(Tensor<double> expected, Tensor<double> actual, double tol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double scale = Math.Max(1, expected.ToArray().Max(Math.Abs));
        double worst = expected.ToArray().Zip(actual.ToArray(), (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tol * scale, $"{what}: max |diff| {worst:E2} > {tol:E0}·{scale:G4}");
    }

    private static Tensor<double> ToDouble<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<double>.FromArray(t.ToArray().Select(double.CreateChecked).ToArray(), t.Shape.ToArray());

    [Fact]
    public void Parameter_gradients_accumulate_across_backward_calls()
    {
        var rng = new Rng(3);
        var conv = new Conv2d<double>(2, 3, 3, 1, 1, rng: rng);
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 2, 2, 5, 5);
        var dy = Tensor<double>.RandomNormal(rng, 0, 1, 2, 3, 5, 5);
        conv.Forward(x);
        conv.Backward(dy);
        var once = conv.Weight.Grad.Clone();
        var onceBias = conv.Bias!.Grad.Clone();
        conv.Forward(x);
        conv.Backward(dy);
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], conv.Weight.Grad[i], 12);
        for (int i = 0; i < onceBias.Length; i++) Assert.Equal(2 * onceBias[i], conv.Bias.Grad[i], 12);
    }

    [Fact]
    public void Without_input_gradient_dx_is_zero_and_parameter_gradients_are_unchanged()
    {
        var rng = new Rng(4);
        var a = new Conv2d<double>(2, 3, 3, 2, 1, rng: new Rng(5));
        var b = new Conv2d<double>(2, 3, 3, 2, 1, rng: new Rng(5)) { ComputeInputGradient = false };
        var x = Tensor<double>.RandomNormal(rng, 0, 1, 3, 2, 7, 7);
        var dy = Tensor<double>.RandomNormal(rng, 0, 1, a.Forward(x).Shape.ToArray());
        b.Forward(x);
        a.Backward(dy);
        var dx = b.Backward(dy);
        Assert.All(dx.ToArray(), v => Assert.Equal(0.0, v));
        Assert.True(a.Weight.Grad.ContentEquals(b.Weight.Grad));
        Assert.True(a.Bias!.Grad.ContentEquals(b.Bias!.Grad));
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Tensor<float>[] Run(int threads)
            {
                Parallelism.MaxThreads = threads;
                var rng = new Rng(6);
                var conv = new Conv2d<float>(8, 16, 3, 1, 1, rng: rng);
                var x = Tensor<float>.RandomNormal(rng, 0, 1, 50, 8, 9, 9);
                var y = conv.Forward(x).Clone();
                var dx = conv.Backward(Tensor<float>.RandomNormal(rng, 0, 1, y.Shape.ToArray())).Clone();
                return [y, dx, conv.Weight.Grad.Clone(), conv.Bias!.Grad.Clone()];
            }
            var one = Run(1);
            var four = Run(4);
            for (int i = 0; i < one.Length; i++) Assert.True(one[i].ContentEquals(four[i]), $"output {i} differs between 1 and 4 threads");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void Default_init_is_pytorchs_uniform_with_bound_one_over_sqrt_fan_in()
    {
        var conv = new Conv2d<double>(16, 32, 3, rng: new Rng(7));
        double bound = 1 / Math.Sqrt(16 * 9);
        var w = conv.Weight.Value.ToArray();
        Assert.All(w, v => Assert.InRange(Math.Abs(v), 0, bound));
        double variance = w.Select(v => v * v).Average();
        Assert.InRange(variance, 0.9 * bound * bound / 3, 1.1 * bound * bound / 3);
        Assert.All(conv.Bias!.Value.ToArray(), v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.Contains(conv.Bias.Value.ToArray(), v => v != 0);

        var he = new Conv2d<double>(16, 32, 3, init: NeuralNet.Init.Init.HeNormal(), rng: new Rng(7));
        Assert.All(he.Bias!.Value.ToArray(), v => Assert.Equal(0.0, v));
        Assert.InRange(he.Weight.Value.ToArray().Select(v => v * v).Average(), 0.9 * 2.0 / 144, 1.1 * 2.0 / 144);
    }

    [Fact]
    public void Shape_errors_name_both_shapes()
    {
        var conv = new Conv2d<float>(3, 8, 5, padding: 1);
        var e = Assert.Throws<ShapeMismatchException>(() => conv.Forward(new Tensor<float>(2, 1, 28, 28)));
        Assert.Contains("(2, 1, 28, 28)", e.Message);
        Assert.Contains("(8, 3, 5, 5)", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => conv.Forward(new Tensor<float>(2, 3 * 28 * 28)));
        Assert.Contains("(2, 2352)", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => conv.Forward(new Tensor<float>(2, 3, 2, 9)));
        Assert.Contains("(2, 3, 2, 9)", e.Message);
        Assert.Contains("(8, 3, 5, 5)", e.Message);
        conv.Forward(new Tensor<float>(2, 3, 6, 6));
        e = Assert.Throws<ShapeMismatchException>(() => conv.Backward(new Tensor<float>(2, 8, 3, 3)));
        Assert.Contains("(2, 8, 4, 4)", e.Message);
        Assert.Throws<InvalidOperationException>(() => new Conv2d<float>(1, 1, 3).Backward(new Tensor<float>(1, 1, 1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d<float>(1, 1, 3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d<float>(1, 1, 3, padding: -1));
    }

    [Fact]
    public void ToString_reads_like_pytorch()
    {
        Assert.Equal("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=True)", new Conv2d<float>(1, 32, 3, padding: 1).ToString());
    }

    [Fact]
    public void Unfold_then_fold_multiplies_each_pixel_by_the_number_of_windows_covering_it()
    {
        // fold(unfold(x)) = x ⊙ count, the adjoint identity behind dx = col2im(dcols).
        int c = 2, h = 5, w = 4, k = 3, s = 2, p = 1;
        int oh = Im2Col.OutputSize(h, k, s, p), ow = Im2Col.OutputSize(w, k, s, p);
        var x = Tensor<double>.RandomNormal(new Rng(8), 0, 1, c, h, w);
        var cols = new double[c * k * k * oh * ow];
        Im2Col.Unfold<double>(x.ReadOnlySpan, c, h, w, k, s, p, cols);
        var back = new double[x.Length];
        Im2Col.Fold<double>(cols, c, h, w, k, s, p, back);
        for (int ci = 0; ci < c; ci++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    int count = 0;
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                            if (i - (r * s - p) is >= 0 and < 3 && j - (q * s - p) is >= 0 and < 3) count++;
                    Assert.Equal(count * x.At(ci, i, j), back[(ci * h + i) * w + j], 12);
                }
    }
}
