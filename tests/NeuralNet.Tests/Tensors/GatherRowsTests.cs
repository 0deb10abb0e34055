using NeuralNet.Tensors;

namespace NeuralNet.Tests.Tensors;

/// <summary>TensorOps.GatherRows: a mini-batch gathered by index, in parts on the kernels' threads.</summary>
[Collection("Serial")]
public class GatherRowsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Each_row_is_the_indexed_source_row_at_any_thread_count(int threads)
    {
        int saved = TensorOps.Threads;
        try
        {
            TensorOps.Threads = threads;
            var rng = new Rng(5);
            var source = Tensor<float>.RandomUniform(rng, -1, 1, 300, 1, 28, 28); // rows of 784: many parts of 5 rows
            int[] rows = Enumerable.Range(0, 130).Select(i => (int)(rng.NextDouble() * 300)).ToArray();
            var destination = new Tensor<float>(130, 1, 28, 28);
            TensorOps.GatherRows(source, rows, destination);
            for (int i = 0; i < rows.Length; i++)
                Assert.True(source.Row(rows[i]).SequenceEqual(destination.Row(i)), $"row {i} (source row {rows[i]})");
        }
        finally
        {
            TensorOps.Threads = saved;
        }
    }

    [Fact]
    public void A_bad_index_or_destination_is_refused_naming_it()
    {
        var source = new Tensor<double>(4, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.GatherRows(source, [0, 4], new Tensor<double>(2, 3)));
        Assert.Contains("row 4", e.Message);
        var s = Assert.Throws<ShapeMismatchException>(() => TensorOps.GatherRows(source, [0, 1, 2], new Tensor<double>(2, 3)));
        Assert.Contains("(2, 3)", s.Message);
        Assert.Throws<ShapeMismatchException>(() => TensorOps.GatherRows(source, [0], new Tensor<double>(2, 4)));
    }
}
