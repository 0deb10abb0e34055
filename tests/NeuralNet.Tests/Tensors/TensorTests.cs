using NeuralNet.Tensors;

namespace NeuralNet.Tests.Tensors;

public class TensorTests
{
    // ---- creation -------------------------------------------------------------------------------

    [Fact]
    public void Zeros_has_shape_and_only_zeros()
    {
        var t = Tensor<double>.Zeros(3, 4);
        Assert.Equal(new Shape(3, 4), t.Shape);
        Assert.Equal(12, t.Length);
        Assert.Equal(2, t.Rank);
        Assert.All(t.ToArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Ones_and_Full_fill_every_element()
    {
        var ones = Tensor<float>.Ones(2, 5);
        Assert.Equal(new Shape(2, 5), ones.Shape);
        Assert.All(ones.ToArray(), v => Assert.Equal(1f, v));

        var full = Tensor<double>.Full(-2.5, 3, 1, 2);
        Assert.Equal(new Shape(3, 1, 2), full.Shape);
        Assert.Equal(6, full.Length);
        Assert.All(full.ToArray(), v => Assert.Equal(-2.5, v));
    }

    [Fact]
    public void FromArray_is_row_major_and_copies_the_values()
    {
        double[] values = [1, 2, 3, 4, 5, 6];
        var t = Tensor<double>.FromArray(values, 2, 3);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(2.0, t[0, 1]);
        Assert.Equal(4.0, t[1, 0]);
        Assert.Equal(6.0, t[1, 2]);

        values[0] = 100;  // the tensor owns a copy
        Assert.Equal(1.0, t[0, 0]);
    }

    [Fact]
    public void FromArray_with_wrong_count_throws_naming_the_shape()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor<float>.FromArray(new float[5], 2, 3));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("5", ex.Message);
    }

    [Fact]
    public void FromRows_builds_a_matrix_and_rejects_ragged_rows()
    {
        var t = Tensor<double>.FromRows([[1, 2, 3], [4, 5, 6]]);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], t.ToArray());

        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor<double>.FromRows([[1, 2, 3], [4, 5]]));
        Assert.Contains("row 1", ex.Message);
    }

    [Fact]
    public void Rank_zero_tensor_has_one_element()
    {
        // Built through the params constructor (an empty extent list), not Tensor.Scalar.
        var s = Tensor<double>.Full(3.5);
        Assert.Equal(0, s.Rank);
        Assert.Equal(1, s.Length);
        Assert.Equal(3.5, s[0]);
        Assert.Equal(1, s.Rows);
        Assert.Equal(1, s.RowLength);
        Assert.Equal("()", s.Shape.ToString());
        Assert.Equal(1, new Shape([]).Length);
    }

    [Fact]
    public void RandomNormal_and_RandomUniform_are_reproducible_from_the_seed()
    {
        var a = Tensor<double>.RandomNormal(new Rng(11), 1.0, 2.0, 4, 5);
        var b = Tensor<double>.RandomNormal(new Rng(11), 1.0, 2.0, 4, 5);
        var c = Tensor<double>.RandomNormal(new Rng(12), 1.0, 2.0, 4, 5);
        Assert.True(a.ContentEquals(b));
        Assert.False(a.ContentEquals(c));

        var u = Tensor<float>.RandomUniform(new Rng(11), -0.5, 0.25, 1000);
        Assert.All(u.ToArray(), v => Assert.InRange(v, -0.5f, 0.25f));
        Assert.True(u.ToArray().Min() < -0.45f && u.ToArray().Max() > 0.2f, "uniform samples should cover the range");
    }

    // ---- indexers -------------------------------------------------------------------------------

    [Fact]
    public void Indexers_read_and_write_the_same_element()
    {
        var t = Tensor<double>.Zeros(3, 4);
        t[1, 2] = 7;
        Assert.Equal(7.0, t[1 * 4 + 2]);
        Assert.Equal(7.0, t.At(1, 2));

        t.At(2, 3) = 9;
        Assert.Equal(9.0, t[11]);

        var t3 = Tensor<float>.Zeros(2, 3, 4);
        t3.At(1, 2, 3) = 5;
        Assert.Equal(5f, t3[1 * 12 + 2 * 4 + 3]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(6)]
    public void Flat_index_out_of_range_names_the_shape(int i)
    {
        var t = Tensor<double>.Zeros(2, 3);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t[i]);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains(i.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(0, 3)]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public void Matrix_index_out_of_range_names_the_shape(int i, int j)
    {
        var t = Tensor<double>.Zeros(2, 3);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t[i, j]);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains($"({i}, {j})", ex.Message);
    }

    [Fact]
    public void Matrix_index_on_a_rank_3_tensor_throws()
    {
        var t = Tensor<double>.Zeros(2, 3, 4);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t[0, 0]);
        Assert.Contains("(2, 3, 4)", ex.Message);
    }

    [Fact]
    public void At_with_wrong_rank_or_extent_names_the_shape()
    {
        var t = Tensor<double>.Zeros(2, 3, 4);
        var rank = Assert.Throws<IndexOutOfRangeException>(() => t.At(1, 1));
        Assert.Contains("(2, 3, 4)", rank.Message);
        var extent = Assert.Throws<IndexOutOfRangeException>(() => t.At(1, 3, 0));
        Assert.Contains("(2, 3, 4)", extent.Message);
        Assert.Contains("(1, 3, 0)", extent.Message);
    }

    // ---- rows and views -------------------------------------------------------------------------

    [Fact]
    public void Row_of_a_rank_3_tensor_spans_all_trailing_elements()
    {
        var t = Tensor<double>.FromArray(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), 2, 3, 4);
        Assert.Equal(2, t.Rows);
        Assert.Equal(12, t.RowLength);
        var r = t.Row(1);
        Assert.Equal(12, r.Length);
        Assert.Equal(12.0, r[0]);
        Assert.Equal(23.0, r[11]);

        r[5] = -1;  // a span over the buffer, not a copy
        Assert.Equal(-1.0, t.At(1, 1, 1));
    }

    [Fact]
    public void Row_out_of_range_names_the_shape()
    {
        var t = Tensor<double>.Zeros(4, 2);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t.Row(4));
        Assert.Contains("(4, 2)", ex.Message);
    }

    [Fact]
    public void RowRange_is_a_view_with_the_right_offset()
    {
        var t = Tensor<double>.FromArray(Enumerable.Range(0, 15).Select(i => (double)i).ToArray(), 5, 3);
        var mid = t.RowRange(1, 3);
        Assert.Equal(new Shape(3, 3), mid.Shape);
        Assert.Equal([3.0, 4, 5, 6, 7, 8, 9, 10, 11], mid.ToArray());
        Assert.Equal(7.0, mid[1, 1]);

        mid[2, 0] = -9;       // row 2 of the view is row 3 of the original
        mid.Row(0)[2] = -5;   // row 0 of the view is row 1 of the original
        Assert.Equal(-9.0, t[3, 0]);
        Assert.Equal(-5.0, t[1, 2]);
        // Rows outside the view are untouched.
        Assert.Equal([0.0, 1, 2], t.Row(0).ToArray());
        Assert.Equal([12.0, 13, 14], t.Row(4).ToArray());

        t[2, 1] = 42;         // and writes to the original show through the view
        Assert.Equal(42.0, mid[1, 1]);
    }

    [Fact]
    public void RowRange_of_a_RowRange_composes_offsets()
    {
        var t = Tensor<float>.FromArray(Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), 10, 2);
        var inner = t.RowRange(2, 6).RowRange(3, 2);  // original rows 5 and 6
        Assert.Equal([10f, 11, 12, 13], inner.ToArray());
        inner.Fill(0);
        Assert.Equal([8f, 9, 0, 0, 0, 0, 14, 15], t.RowRange(4, 4).ToArray());
    }

    [Fact]
    public void Empty_RowRange_at_the_end_is_allowed()
    {
        var t = Tensor<double>.Zeros(4, 3);
        var empty = t.RowRange(4, 0);
        Assert.Equal(new Shape(0, 3), empty.Shape);
        Assert.Equal(0, empty.Length);
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(3, 2)]
    [InlineData(0, 5)]
    [InlineData(1, -1)]
    public void RowRange_out_of_range_names_the_shape(int start, int count)
    {
        var t = Tensor<double>.Zeros(4, 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => t.RowRange(start, count));
        Assert.Contains("(4, 3)", ex.Message);
    }

    [Fact]
    public void Reshape_is_a_view()
    {
        var t = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var r = t.Reshape(3, 2);
        Assert.Equal(new Shape(3, 2), r.Shape);
        Assert.Equal(t.ToArray(), r.ToArray());
        Assert.Equal(3.0, r[1, 0]);

        r[2, 1] = -6;
        Assert.Equal(-6.0, t[1, 2]);
        t[0, 1] = 20;
        Assert.Equal(20.0, r[0, 1]);
    }

    [Fact]
    public void Reshape_of_a_RowRange_keeps_the_offset()
    {
        var t = Tensor<double>.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 4, 3);
        var flat = t.RowRange(2, 2).Reshape(-1);
        Assert.Equal(new Shape(6), flat.Shape);
        Assert.Equal([6.0, 7, 8, 9, 10, 11], flat.ToArray());
        flat[0] = -1;
        Assert.Equal(-1.0, t[2, 0]);
    }

    [Theory]
    [InlineData(new[] { -1, 4 }, new[] { 6, 4 })]
    [InlineData(new[] { 2, -1 }, new[] { 2, 12 })]
    [InlineData(new[] { 3, -1, 2 }, new[] { 3, 4, 2 })]
    [InlineData(new[] { -1 }, new[] { 24 })]
    public void Reshape_infers_the_minus_one_extent(int[] request, int[] expected)
    {
        var t = Tensor<float>.Zeros(2, 3, 4);
        Assert.Equal(new Shape(expected), t.Reshape(request).Shape);
    }

    [Fact]
    public void Bad_reshape_names_both_shapes()
    {
        var t = Tensor<double>.Zeros(2, 3);
        var ex = Assert.Throws<ShapeMismatchException>(() => t.Reshape(4, 2));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, 2)", ex.Message);
    }

    [Fact]
    public void Reshape_that_cannot_infer_throws()
    {
        var t = Tensor<double>.Zeros(2, 3);
        var ex = Assert.Throws<ShapeMismatchException>(() => t.Reshape(4, -1));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, -1)", ex.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
    }

    // ---- copies ---------------------------------------------------------------------------------

    [Fact]
    public void Clone_is_independent()
    {
        var t = Tensor<double>.FromArray([1, 2, 3, 4], 2, 2);
        var c = t.Clone();
        Assert.True(c.ContentEquals(t));
        c[0, 0] = 100;
        t[1, 1] = -100;
        Assert.Equal(1.0, t[0, 0]);
        Assert.Equal(4.0, c[1, 1]);
    }

    [Fact]
    public void Clone_of_a_view_copies_only_the_view()
    {
        var t = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 3, 2);
        var c = t.RowRange(1, 2).Clone();
        Assert.Equal(new Shape(2, 2), c.Shape);
        Assert.Equal([3.0, 4, 5, 6], c.ToArray());
        c[0, 0] = 0;
        Assert.Equal(3.0, t[1, 0]);
    }

    [Fact]
    public void CopyTo_copies_into_a_view()
    {
        var src = Tensor<float>.FromArray([7, 8, 9], 1, 3);
        var dst = Tensor<float>.Zeros(3, 3);
        src.CopyTo(dst.RowRange(1, 1));
        Assert.Equal([0f, 0, 0, 7, 8, 9, 0, 0, 0], dst.ToArray());
    }

    [Fact]
    public void CopyTo_shape_mismatch_names_both_shapes()
    {
        var src = Tensor<double>.Zeros(2, 3);
        var dst = Tensor<double>.Zeros(3, 2);  // same length, different shape
        var ex = Assert.Throws<ShapeMismatchException>(() => src.CopyTo(dst));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(3, 2)", ex.Message);
        Assert.Contains("CopyTo", ex.Message);
    }

    [Fact]
    public void ContentEquals_compares_shape_and_bits()
    {
        var a = Tensor<double>.FromArray([1, 2, 3, 4], 2, 2);
        Assert.True(a.ContentEquals(Tensor<double>.FromArray([1, 2, 3, 4], 2, 2)));
        Assert.False(a.ContentEquals(Tensor<double>.FromArray([1, 2, 3, 4], 4, 1)));
        Assert.False(a.ContentEquals(Tensor<double>.FromArray([1, 2, 3, 4.000000001], 2, 2)));
    }

    [Fact]
    public void ToString_shows_shape_and_leading_values()
    {
        var t = Tensor<double>.FromArray([1, 2.5, 3, 4, 5, 6], 2, 3);
        Assert.Equal("Tensor<Double>(2, 3) [[1, 2.5, 3], [4, 5, 6]]", t.ToString());
    }

    // ---- Shape ----------------------------------------------------------------------------------

    [Fact]
    public void Shape_formats_like_python()
    {
        Assert.Equal("(128, 784)", new Shape(128, 784).ToString());
        Assert.Equal("(5,)", new Shape(5).ToString());
        Assert.Equal("(2, 3, 4)", new Shape(2, 3, 4).ToString());
    }

    [Fact]
    public void Shape_equality_is_by_rank_and_extents()
    {
        var a = new Shape(128, 784);
        var b = new Shape(128, 784);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());

        Assert.True(a != new Shape(784, 128));
        Assert.True(new Shape(6) != new Shape(6, 1));
        Assert.False(a.Equals("(128, 784)"));
    }

    [Fact]
    public void Shape_length_rank_and_negative_axis()
    {
        var s = new Shape(2, 3, 4);
        Assert.Equal(24, s.Length);
        Assert.Equal(3, s.Rank);
        Assert.Equal(4, s[-1]);
        Assert.Equal(2, s[0]);
        Assert.Equal(0, new Shape(3, 0).Length);
    }

    [Fact]
    public void Shape_is_immutable()
    {
        int[] dims = [2, 3];
        var s = new Shape(dims);
        dims[0] = 99;
        Assert.Equal(2, s[0]);
        s.ToArray()[1] = 99;
        Assert.Equal(3, s[1]);
    }

    [Fact]
    public void Shape_rejects_negative_extents()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Shape(2, -3));
        Assert.Contains("(2, -3)", ex.Message);
    }
}
