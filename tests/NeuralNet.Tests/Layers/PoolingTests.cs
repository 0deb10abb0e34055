using NeuralNet.Layers;
using NeuralNet.Tensors;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Layers;

/// <summary>MaxPool2d, AvgPool2d and Flatten: known values, ties, NaN, overlapping windows, views.</summary>
public class PoolingTests
{
    private static Tensor<double> Image(int h, int w, params double[] values) => Tensor<double>.FromArray(values, 1, 1, h, w);

    [Fact]
    public void MaxPool_takes_window_maxima_and_routes_the_gradient_to_them()
    {
        var x = Image(4, 4,
            1, 5, 2, 0,
            3, 4, 8, 1,
            0, 0, 6, 7,
            9, 2, 7, 3);
        var pool = new MaxPool2d<double>(2);
        AssertClose(Image(2, 2, 5, 8, 9, 7), pool.Forward(x), 0);
        var dx = pool.Backward(Image(2, 2, 10, 20, 30, 40));
        AssertClose(Image(4, 4,
            0, 10, 0, 0,
            0, 0, 20, 0,
            0, 0, 0, 40,
            30, 0, 0, 0), dx, 0);
    }

    [Fact]
    public void MaxPool_ties_go_to_the_first_maximum_in_row_major_order()
    {
        var x = Image(2, 4,
            2, 2, 0, 1,
            2, 1, 1, 1);
        var pool = new MaxPool2d<double>(2);
        pool.Forward(x);
        AssertClose(Image(2, 4, 1, 0, 0, 1, 0, 0, 0, 0), pool.Backward(Image(1, 2, 1, 1)), 0);
    }

    [Fact]
    public void MaxPool_propagates_nan()
    {
        var x = Image(2, 4,
            1, double.NaN, 0, 1,
            9, 1, 1, 2);
        var pool = new MaxPool2d<double>(2);
        var y = pool.Forward(x);
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal(2.0, y[1]);
        AssertClose(Image(2, 4, 0, 5, 0, 0, 0, 0, 0, 7), pool.Backward(Image(1, 2, 5, 7)), 0);
    }

    [Fact]
    public void Overlapping_max_windows_sum_their_gradients_into_a_shared_maximum()
    {
        // k = 3, s = 1 on a 3×4 image: both windows contain the 9 at (1, 2).
        var x = Image(3, 4,
            0, 1, 2, 0,
            1, 0, 9, 1,
            2, 1, 0, 3);
        var pool = new MaxPool2d<double>(3, 1);
        AssertClose(Image(1, 2, 9, 9), pool.Forward(x), 0);
        var dx = pool.Backward(Image(1, 2, 1.5, 2.5));
        Assert.Equal(4.0, dx.At(0, 0, 1, 2));
        Assert.Equal(4.0, dx.ToArray().Sum());
    }

    [Fact]
    public void AvgPool_averages_windows_and_spreads_the_gradient_evenly()
    {
        var x = Image(2, 4,
            1, 3, 0, 4,
            5, 7, 8, 0);
        var pool = new AvgPool2d<double>(2);
        AssertClose(Image(1, 2, 4, 3), pool.Forward(x), 1e-15);
        AssertClose(Image(2, 4, 1, 1, 2, 2, 1, 1, 2, 2), pool.Backward(Image(1, 2, 4, 8)), 1e-15);
    }

    [Fact]
    public void Pools_use_floor_mode_and_default_the_stride_to_the_kernel()
    {
        var x = new Tensor<float>(2, 3, 7, 9);
        Assert.Equal(new Shape(2, 3, 3, 4), new MaxPool2d<float>(2).Forward(x).Shape);
        Assert.Equal(new Shape(2, 3, 2, 3), new AvgPool2d<float>(3).Forward(x).Shape);
        Assert.Equal(new Shape(2, 3, 3, 4), new MaxPool2d<float>(3, 2).Forward(x).Shape);
        Assert.Equal(2, new MaxPool2d<float>(2).Stride);
    }

    [Fact]
    public void Pool_shape_errors_name_the_input()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new MaxPool2d<float>(2).Forward(new Tensor<float>(4, 10)));
        Assert.Contains("(4, 10)", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => new AvgPool2d<float>(3).Forward(new Tensor<float>(1, 1, 2, 5)));
        Assert.Contains("(1, 1, 2, 5)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2d<float>(2, 0));
    }

    [Fact]
    public void Large_pools_match_across_the_parallel_threshold()
    {
        // (64, 8, 12, 12) runs on the kernel pool; each plane must equal the same plane pooled alone (inline).
        var rng = new Rng(3);
        var x = Tensor<float>.RandomNormal(rng, 0, 1, 64, 8, 12, 12);
        var dy = Tensor<float>.RandomNormal(rng, 0, 1, 64, 8, 6, 6);
        var big = new MaxPool2d<float>(2);
        var y = big.Forward(x);
        var dx = big.Backward(dy);
        var small = new MaxPool2d<float>(2);
        foreach (int n in new[] { 0, 17, 63 })
        {
            var ys = small.Forward(x.RowRange(n, 1));
            Assert.True(ys.ReadOnlySpan.SequenceEqual(y.Row(n)));
            Assert.True(small.Backward(dy.RowRange(n, 1)).ReadOnlySpan.SequenceEqual(dx.Row(n)));
        }
    }

    [Fact]
    public void Flatten_returns_views_in_both_directions()
    {
        var x = Tensor<float>.RandomNormal(new Rng(4), 0, 1, 3, 2, 4, 5);
        var flatten = new Flatten<float>();
        var y = flatten.Forward(x);
        Assert.Equal(new Shape(3, 40), y.Shape);
        Assert.Same(x.Buffer, y.Buffer);
        Assert.Same(y, flatten.Forward(x)); // the view object is cached while the input is the same tensor
        var dy = Tensor<float>.RandomNormal(new Rng(5), 0, 1, 3, 40);
        var dx = flatten.Backward(dy);
        Assert.Equal(x.Shape, dx.Shape);
        Assert.Same(dy.Buffer, dx.Buffer);
        Assert.True(dx.ReadOnlySpan.SequenceEqual(dy.ReadOnlySpan));
        Assert.Throws<ShapeMismatchException>(() => flatten.Forward(new Tensor<float>(5)));
        Assert.Throws<ShapeMismatchException>(() => flatten.Backward(new Tensor<float>(3, 41)));
    }
}
