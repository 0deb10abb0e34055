using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

[Collection("Serial")]
public class PoolKernelTests
{
    /// <summary>The window maximum and the row-major first index holding it, from plain loops.</summary>
    private static (float[] Y, int[] Arg) Reference(float[] x, int planes, int h, int w, int k, int s)
    {
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        var y = new float[planes * oh * ow];
        var arg = new int[y.Length];
        for (int p = 0; p < planes; p++)
            for (int r = 0; r < oh; r++)
                for (int c = 0; c < ow; c++)
                {
                    int best = r * s * w + c * s;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++)
                        {
                            int at = (r * s + i) * w + c * s + j;
                            if (x[p * h * w + at] > x[p * h * w + best]) best = at;
                        }
                    y[(p * oh + r) * ow + c] = x[p * h * w + best];
                    arg[(p * oh + r) * ow + c] = best;
                }
        return (y, arg);
    }

    [Theory]
    [InlineData(3, 6, 40, 2, 2)]   // 20 outputs a row: two 8-wide groups and a zero-padded last group of 4
    [InlineData(2, 28, 28, 2, 2)]  // the CNN's first pooling (14 a row)
    [InlineData(2, 14, 14, 2, 2)]  // its second (7 a row: one padded group)
    [InlineData(3, 5, 5, 2, 2)]    // odd sizes: the last row and column of the input are not pooled
    [InlineData(4, 2, 3, 2, 2)]    // a single output a row
    [InlineData(2, 9, 35, 3, 2)]
    [InlineData(1, 8, 33, 2, 1)]
    public void Max_pooling_matches_the_loops_with_many_ties_at_every_instruction_set(int planes, int h, int w, int k, int s)
    {
        var rng = new Rng((ulong)(h * 100 + w));
        // Values from a set of five, so most windows hold ties: the first in row-major order must win.
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(5) - 2;
        var (yRef, argRef) = Reference(x, planes, h, w, k, s);
        foreach (var level in Simd.Supported)
        {
            using var scope = new SimdScope(level);
            var y = new float[yRef.Length];
            var arg = new int[argRef.Length];
            PoolKernels.MaxPool2d<float>(x, planes, h, w, k, s, y, arg);
            Assert.Equal(yRef, y);
            Assert.Equal(argRef, arg);
        }
    }

    [Theory]
    [InlineData(3, 6, 40, 2, 2)]   // 20 outputs a row: two 8-wide groups and 4 one by one
    [InlineData(2, 28, 28, 2, 2)]  // the CNN's first pooling (14 a row)
    [InlineData(2, 14, 14, 2, 2)]  // its second (7 a row: no full group)
    [InlineData(3, 5, 35, 2, 2)]   // odd sizes: the last row and column get zeros
    [InlineData(4, 2, 3, 2, 2)]    // a single output a row
    [InlineData(2, 9, 35, 3, 2)]   // overlapping windows: the general loop
    public void Max_pooling_backward_writes_the_bytes_of_zero_then_add_at_every_instruction_set(int planes, int h, int w, int k, int s)
    {
        var rng = new Rng((ulong)(h * 1000 + w * 10 + k));
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(5) - 2;
        var (yRef, arg) = Reference(x, planes, h, w, k, s);
        int outPlane = yRef.Length / planes;
        // Gradients with −0 (which 0 + dy turns into +0) and a NaN among ordinary values.
        var dy = new float[yRef.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = (i % 7) switch { 0 => -0f, 3 => (float)rng.NextNormal(), _ => (float)rng.NextNormal() * 3 };
        dy[dy.Length / 2] = float.NaN;
        var expected = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < outPlane; o++) expected[p * h * w + arg[p * outPlane + o]] += dy[p * outPlane + o];
        foreach (var level in Simd.Supported)
        {
            using var scope = new SimdScope(level);
            var dx = Enumerable.Repeat(7f, x.Length).ToArray(); // stale values must all be overwritten
            PoolKernels.MaxPool2dBackward<float>(dy, arg, planes, h, w, k, s, dx);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), dx.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
