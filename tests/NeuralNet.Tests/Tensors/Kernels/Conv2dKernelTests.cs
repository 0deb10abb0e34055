using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

[Collection("Serial")]
public class Conv2dKernelTests
{
    // (N, C, H, W, O, k, stride, padding): stride 1 takes the direct input gradient, other strides (and p > k − 1) col2im;
    // N = 37 and 70 cut the batch into chunks of several samples with a short last one.
    public static TheoryData<int, int, int, int, int, int, int, int> Geometries() => new()
    {
        { 1, 1, 5, 5, 1, 1, 1, 0 },
        { 3, 2, 7, 6, 5, 3, 1, 1 },
        { 37, 3, 9, 9, 4, 3, 1, 1 },
        { 4, 5, 8, 11, 3, 5, 1, 2 },
        { 5, 3, 10, 10, 7, 3, 2, 1 },
        { 2, 4, 9, 7, 6, 2, 2, 0 },
        { 3, 2, 6, 6, 3, 3, 1, 3 },
        { 70, 1, 12, 12, 8, 3, 1, 0 },
        { 2, 33, 5, 5, 17, 3, 1, 1 },
        // Small windows at widths that are and are not multiples of 8 and 16 take the direct weight gradient
        // (Conv2dWeightGradient): the MNIST first layers (1→32 3×3 "same", 1→16 5×5), RGB 3×3, a 1×1 window.
        { 9, 1, 28, 28, 32, 3, 1, 1 },
        { 4, 1, 28, 28, 16, 5, 1, 0 },
        { 3, 3, 13, 19, 5, 3, 1, 1 },
        { 3, 3, 13, 19, 8, 3, 1, 1 },
        { 2, 2, 16, 17, 3, 1, 1, 0 },
        { 2, 1, 20, 20, 4, 4, 1, 2 },
        // The direct forms (Conv2dDirect: positions × channels tiles with the image read in place) at 256 and 512 bits:
        // the MNIST CNN's second layer, channel counts that are not multiples of 16 or 32 (29, 13, 14, 26), several
        // k-blocks, positions that are not multiples of 6 or 8, a 5×5 "same" window, a short wide image, 37 samples.
        { 3, 32, 14, 14, 64, 3, 1, 1 },
        { 2, 5, 30, 30, 29, 3, 1, 1 },
        { 2, 4, 28, 28, 13, 5, 1, 2 },
        { 2, 26, 3, 61, 14, 3, 1, 1 },
        { 37, 16, 9, 9, 16, 3, 1, 1 },
    };

    /// <summary>The direct forms (and the small-window forward) and the packed GEMM add the same products in the same order: the bytes agree.</summary>
    [Theory]
    [InlineData(3, 32, 14, 14, 64, 3, 1, 1)]
    [InlineData(2, 5, 30, 30, 29, 3, 1, 1)]
    [InlineData(2, 4, 28, 28, 13, 5, 1, 2)]
    [InlineData(37, 16, 9, 9, 16, 3, 1, 1)]
    [InlineData(2, 26, 3, 61, 14, 3, 1, 1)]
    [InlineData(9, 1, 28, 28, 32, 3, 1, 1)]
    [InlineData(4, 1, 28, 28, 16, 5, 1, 0)]
    [InlineData(3, 3, 13, 19, 8, 3, 1, 1)]
    public void The_direct_form_equals_the_packed_gemm_bit_for_bit(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        var rng = new Rng(11);
        int oh = Im2Col.OutputSize(h, k, s, p), ow = Im2Col.OutputSize(w, k, s, p);
        var x = Tensor<float>.RandomUniform(rng, -1, 1, n, c, h, w);
        var weight = Tensor<float>.RandomUniform(rng, -1, 1, o, c, k, k);
        var bias = Tensor<float>.RandomUniform(rng, -1, 1, o);
        var g = Tensor<float>.RandomUniform(rng, -1, 1, n, o, oh, ow);
        int directRuns = 0;
        foreach (var level in Simd.Supported.Where(l => l != SimdLevel.Scalar))
        {
            using var scope = new SimdScope(level);
            bool forward = Conv2dDirect.Applies<float>(level, s, o, c * k * k) || Conv2dSmallWindow.Applies<float>(level, s, c * k * k, o, ow);
            bool input = Conv2dDirect.Applies<float>(level, 1, c, o * k * k) && h * w <= oh * ow;
            if (!forward && !input) continue;
            directRuns++;
            (float[] Y, float[] Dx) Run(bool direct)
            {
                var kernel = new Conv2dKernel<float>(c, o, k, s, p) { UseDirect = direct };
                var y = new float[n * o * oh * ow];
                var dx = new float[x.Length];
                kernel.Forward(x.ReadOnlySpan, n, h, w, weight.ReadOnlySpan, bias.ReadOnlySpan, y);
                kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, new float[weight.Length], default, dx);
                return (y, dx);
            }
            var (yDirect, dxDirect) = Run(true);
            var (yPacked, dxPacked) = Run(false);
            Assert.True(yPacked.AsSpan().SequenceEqual(yDirect), $"y differs at {level} (direct: {forward})");
            Assert.True(dxPacked.AsSpan().SequenceEqual(dxDirect), $"dx differs at {level} (direct: {input})");
        }
        Assert.True(directRuns > 0, "no instruction set here runs the direct form for this geometry");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Every_instruction_set_matches_the_reference_loops(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        Check<double>(n, c, h, w, o, k, s, p, 1e-12);
        Check<float>(n, c, h, w, o, k, s, p, 2e-5);
    }

    private static void Check<T>(int n, int c, int h, int w, int o, int k, int s, int p, double tolerance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)(n * 31 + c * 7 + k));
        int oh = Im2Col.OutputSize(h, k, s, p), ow = Im2Col.OutputSize(w, k, s, p);
        var x = Tensor<T>.RandomUniform(rng, -1, 1, n, c, h, w);
        var weight = Tensor<T>.RandomUniform(rng, -1, 1, o, c, k, k);
        var bias = Tensor<T>.RandomUniform(rng, -1, 1, o);
        var g = Tensor<T>.RandomUniform(rng, -1, 1, n, o, oh, ow);
        var yRef = new T[n * o * oh * ow];
        var dwRef = new T[weight.Length];
        var dbRef = new T[o];
        var dxRef = new T[x.Length];
        Conv2dReference.Forward<T>(x.ReadOnlySpan, n, c, h, w, weight.ReadOnlySpan, bias.ReadOnlySpan, o, k, s, p, yRef);
        Conv2dReference.Backward<T>(x.ReadOnlySpan, n, c, h, w, weight.ReadOnlySpan, g.ReadOnlySpan, o, k, s, p, dwRef, dbRef, dxRef);

        foreach (var level in Simd.Supported)
        {
            using var scope = new SimdScope(level);
            var kernel = new Conv2dKernel<T>(c, o, k, s, p);
            for (int round = 0; round < 2; round++) // the second round reuses the buffers of the first
            {
                var y = new T[yRef.Length];
                var dw = new T[dwRef.Length];
                var db = new T[o];
                var dx = new T[dxRef.Length];
                kernel.Forward(x.ReadOnlySpan, n, h, w, weight.ReadOnlySpan, bias.ReadOnlySpan, y);
                kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, dw, db, dx);
                string where = $"{typeof(T).Name} {level} N={n} C={c} H={h} W={w} O={o} k={k} s={s} p={p} round {round}";
                AssertClose(yRef, y, tolerance, "y " + where);
                AssertClose(dwRef, dw, tolerance, "dW " + where);
                AssertClose(dbRef, db, tolerance, "db " + where);
                AssertClose(dxRef, dx, tolerance, "dx " + where);
            }
        }
    }

    [Fact]
    public void Weight_gradient_accumulates_and_a_skipped_input_gradient_is_not_written()
    {
        var rng = new Rng(4);
        var kernel = new Conv2dKernel<double>(2, 3, 3, 1, 1);
        var x = Tensor<double>.RandomUniform(rng, -1, 1, 4, 2, 6, 6);
        var weight = Tensor<double>.RandomUniform(rng, -1, 1, 3, 2, 3, 3);
        var g = Tensor<double>.RandomUniform(rng, -1, 1, 4, 3, 6, 6);
        var y = new double[4 * 3 * 36];
        kernel.Forward(x.ReadOnlySpan, 4, 6, 6, weight.ReadOnlySpan, default, y);
        var once = new double[weight.Length];
        kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, once, default, default);
        var twice = new double[weight.Length];
        kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, twice, default, default);
        kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, twice, default, default);
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 1e-12);
    }

    // 3→8: the small-window forward and weight gradient; 16→32: the direct forward, weight gradient and input gradient.
    [Theory]
    [InlineData(3, 8)]
    [InlineData(16, 32)]
    public void Results_do_not_depend_on_the_thread_count(int c, int o)
    {
        var rng = new Rng(8);
        var x = Tensor<float>.RandomUniform(rng, -1, 1, 50, c, 10, 10);
        var weight = Tensor<float>.RandomUniform(rng, -1, 1, o, c, 3, 3);
        var g = Tensor<float>.RandomUniform(rng, -1, 1, 50, o, 10, 10);
        float[] Run(int threads)
        {
            int saved = TensorOps.Threads;
            try
            {
                TensorOps.Threads = threads;
                var kernel = new Conv2dKernel<float>(c, o, 3, 1, 1);
                var y = new float[50 * o * 100];
                var dw = new float[weight.Length];
                var dx = new float[x.Length];
                kernel.Forward(x.ReadOnlySpan, 50, 10, 10, weight.ReadOnlySpan, default, y);
                kernel.Backward(g.ReadOnlySpan, weight.ReadOnlySpan, dw, default, dx);
                return [.. y, .. dw, .. dx];
            }
            finally
            {
                TensorOps.Threads = saved;
            }
        }
        foreach (var level in Simd.Supported)
        {
            using var scope = new SimdScope(level);
            Assert.Equal(Run(1), Run(3));
        }
    }

    private static void AssertClose<T>(T[] expected, T[] actual, double tolerance, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double maxErr = 0, maxRef = 1;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(double.CreateChecked(actual[i] - expected[i])));
            maxRef = Math.Max(maxRef, Math.Abs(double.CreateChecked(expected[i])));
        }
        Assert.True(maxErr / maxRef <= tolerance, $"{what}: relative error {maxErr / maxRef:E3} > {tolerance:E0}");
    }
}
