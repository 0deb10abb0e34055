using NeuralNet.Data;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Tests.Data;

public class DataTests
{
    private static Dataset<float> Numbered(int n, int features = 3)
    {
        var x = new Tensor<float>(n, features);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < features; j++) x[i, j] = i * 10 + j;
        return new Dataset<float>(x, Enumerable.Range(0, n).Select(i => i % 4).ToArray(), 4);
    }

    [Fact]
    public void Unshuffled_batches_are_views_in_order_with_a_partial_last_batch()
    {
        var data = Numbered(10);
        var loader = new DataLoader<float>(data, 4, shuffle: false);
        var batches = new List<(float First, int Size, int[] Labels)>();
        foreach (var b in loader.GetEpoch(0)) batches.Add((b.Features[0, 0], b.Size, b.Labels.ToArray()));
        Assert.Equal([(0f, 4), (40f, 4), (80f, 2)], batches.Select(b => (b.First, b.Size)));
        Assert.Equal([0, 1], batches[2].Labels);
        // A view: writing through the batch changes the data set.
        loader.GetBatch(1).Features[0, 0] = -1;
        Assert.Equal(-1f, data.Features[4, 0]);
    }

    [Fact]
    public void Drop_last_skips_the_partial_batch()
    {
        var loader = new DataLoader<float>(Numbered(10), 4, shuffle: false, dropLast: true);
        Assert.Equal(2, loader.BatchCount);
    }

    [Fact]
    public void Shuffled_epochs_are_permutations_that_differ_between_epochs_and_repeat_for_a_seed()
    {
        var data = Numbered(50);
        List<int> Order(DataLoader<float> l, int epoch)
        {
            var seen = new List<int>();
            foreach (var b in l.GetEpoch(epoch))
                for (int i = 0; i < b.Size; i++)
                {
                    int sample = (int)(b.Features[i, 0] / 10);
                    Assert.Equal(sample % 4, b.Labels[i]); // labels travel with their rows
                    seen.Add(sample);
                }
            return seen;
        }
        var a = new DataLoader<float>(data, 8, seed: 1);
        var e0 = Order(a, 0);
        var e1 = Order(a, 1);
        Assert.Equal(Enumerable.Range(0, 50), e0.Order());
        Assert.NotEqual(e0, e1);
        Assert.NotEqual(Enumerable.Range(0, 50), e0);
        Assert.Equal(e1, Order(new DataLoader<float>(data, 8, seed: 1), 1));
        Assert.NotEqual(e0, Order(new DataLoader<float>(data, 8, seed: 2), 0));
    }

    [Fact]
    public void Iterating_a_shuffled_epoch_allocates_nothing_once_warm()
    {
        var loader = new DataLoader<float>(Numbered(100, 16), 32, seed: 3);
        foreach (var _ in loader.GetEpoch(0)) { }
        long before = GC.GetAllocatedBytesForCurrentThread();
        float sum = 0;
        for (int e = 1; e < 3; e++)
            foreach (var b in loader.GetEpoch(e)) sum += b.Features[0, 0];
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_complete()
    {
        var data = Numbered(100);
        var (train, val) = data.Split(0.1, seed: 5);
        Assert.Equal(90, train.Count);
        Assert.Equal(10, val.Count);
        var ids = train.Features.ToArray().Where((_, i) => i % 3 == 0).Concat(val.Features.ToArray().Where((_, i) => i % 3 == 0)).Select(v => (int)v / 10);
        Assert.Equal(Enumerable.Range(0, 100), ids.Order());
        var (train2, _) = data.Split(0.1, seed: 5);
        Assert.True(train.Features.ContentEquals(train2.Features));
        var (train3, _) = data.Split(0.1, seed: 6);
        Assert.False(train.Features.ContentEquals(train3.Features));
    }

    [Fact]
    public void OneHot_and_standardizer()
    {
        var oh = Preprocessing.OneHot<float>([2, 0], 3);
        Assert.Equal([0f, 0, 1, 1, 0, 0], oh.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessing.OneHot<float>([3], 3));

        var train = Tensor<double>.FromArray([1, 10, 3, 10, 5, 10], 3, 2);
        var s = Standardizer<double>.Fit(train);
        Assert.Equal([3.0, 10.0], s.Mean);
        Assert.Equal(Math.Sqrt(8.0 / 3), s.Std[0], 14);
        var test = Tensor<double>.FromArray([3, 12], 1, 2);
        s.Transform(test);
        Assert.Equal([0.0, 2.0], test.ToArray()); // σ = 0 feature: centred only
    }

    [Fact]
    public void Dataset_rejects_mismatched_counts_and_bad_labels()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new Dataset<float>(new Tensor<float>(3, 2), [0, 1]));
        Assert.Contains("(3, 2)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset<float>(new Tensor<float>(2, 2), [0, 5], 3));
    }

    [Fact]
    public void Toy_datasets_have_the_requested_sizes_and_classes()
    {
        Assert.Equal(300, ToyDatasets.Spirals<float>(100, 3).Count);
        Assert.Equal(4, ToyDatasets.Spirals<float>(10, 4).NumClasses);
        Assert.Equal(200, ToyDatasets.Moons<float>(200).Count);
        var circles = ToyDatasets.Circles<double>(100, noise: 0, factor: 0.5);
        for (int i = 0; i < 100; i++)
        {
            double r = Math.Sqrt(circles.Features[i, 0] * circles.Features[i, 0] + circles.Features[i, 1] * circles.Features[i, 1]);
            Assert.Equal(circles.Labels[i] == 0 ? 1.0 : 0.5, r, 12);
        }
        Assert.Equal([0, 1, 1, 0], ToyDatasets.Xor<float>().Labels);
    }

    [Fact]
    public void Metrics_from_a_confusion_matrix()
    {
        var m = new Metrics(0.5, new long[,] { { 8, 2 }, { 1, 9 } });
        Assert.Equal(17.0 / 20, m.Accuracy);
        Assert.Equal(8.0 / 9, m.Precision[0], 14);
        Assert.Equal(8.0 / 10, m.Recall[0], 14);
        Assert.Equal(2 * (8.0 / 9) * 0.8 / (8.0 / 9 + 0.8), m.F1[0], 14);
    }
}

public class AugmentTests
{
    [Fact]
    public void RandomShift_moves_each_image_by_at_most_the_limit_and_keeps_interior_pixels()
    {
        var batch = new Tensor<float>(50, 1, 9, 9);
        for (int i = 0; i < 50; i++) batch.At(i, 0, 4, 4) = i + 1; // one bright pixel in the centre
        Augment.RandomShift(batch, 2, new Rng(3));
        var moves = new HashSet<(int, int)>();
        for (int i = 0; i < 50; i++)
        {
            var found = new List<(int Y, int X)>();
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 9; x++)
                    if (batch.At(i, 0, y, x) != 0) found.Add((y, x));
            Assert.Single(found);
            var (py, px) = found[0];
            Assert.Equal(i + 1, batch.At(i, 0, py, px));
            Assert.InRange(py - 4, -2, 2);
            Assert.InRange(px - 4, -2, 2);
            moves.Add((py - 4, px - 4));
        }
        Assert.True(moves.Count > 10, $"only {moves.Count} distinct shifts in 50 images");
    }

    [Fact]
    public void Shifted_out_pixels_are_dropped_and_the_border_is_zero_filled()
    {
        var batch = Tensor<float>.Ones(200, 1, 4, 4);
        Augment.RandomShift(batch, 1, new Rng(4));
        for (int i = 0; i < 200; i++)
        {
            float sum = 0;
            for (int p = 0; p < 16; p++) sum += batch[i * 16 + p];
            Assert.Contains(sum, new[] { 16f, 12f, 9f }); // no shift, one axis, or both
        }
        Assert.Throws<ShapeMismatchException>(() => Augment.RandomShift(new Tensor<float>(2, 16), 1, new Rng(1)));
    }
}

public class SplitInPlaceTests
{
    [Theory]
    [InlineData(0.1, 5UL)]
    [InlineData(0.5, 6UL)]
    [InlineData(0.0, 7UL)]
    public void SplitInPlace_gives_exactly_what_Split_gives(double fraction, ulong seed)
    {
        Dataset<float> Make()
        {
            var x = new Tensor<float>(97, 3);
            for (int i = 0; i < 97; i++)
                for (int j = 0; j < 3; j++) x[i, j] = i * 10 + j;
            return new Dataset<float>(x, Enumerable.Range(0, 97).Select(i => i % 7).ToArray(), 7);
        }
        var (train, val) = Make().Split(fraction, seed);
        var (train2, val2) = Make().SplitInPlace(fraction, seed);
        Assert.True(train.Features.ContentEquals(train2.Features));
        Assert.True(val.Features.ContentEquals(val2.Features));
        Assert.Equal(train.Labels, train2.Labels);
        Assert.Equal(val.Labels, val2.Labels);
    }
}
