using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Data;

/// <summary>
/// A data set kept as bytes (x = b / divisor, decoded batch by batch) must behave exactly as the float data set of the
/// same values: the same batches, bytes for bytes, the same splits, the same errors.
/// </summary>
[Collection("Serial")]
public class ByteDatasetTests
{
    private const int Count = 37;
    private static readonly int[] SampleShape = [1, 3, 5];

    /// <summary>The same samples twice: as bytes, and as the floats b / 255f written one by one.</summary>
    private static (Dataset<float> Bytes, Dataset<float> Floats) Twins(int seed = 1)
    {
        var rng = new Rng((ulong)seed);
        var pixels = new byte[Count * 15];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        int[] labels = Enumerable.Range(0, Count).Select(i => (i * 7) % 5).ToArray();
        var x = new Tensor<float>(Count, 1, 3, 5);
        for (int i = 0; i < pixels.Length; i++) x.Span[i] = pixels[i] / 255f;
        return (new Dataset<float>(pixels, SampleShape, 255f, (int[])labels.Clone(), 5),
                new Dataset<float>(x, (int[])labels.Clone(), 5));
    }

    private static List<(float[] Features, int[] Labels)> Epoch(DataLoader<float> loader, int epoch)
    {
        var batches = new List<(float[], int[])>();
        foreach (var b in loader.GetEpoch(epoch)) batches.Add((b.Features.ToArray(), b.Labels.ToArray()));
        return batches;
    }

    private static void SameBits(IReadOnlyList<float> expected, IReadOnlyList<float> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: value {i} is {actual[i]:R}, the float set's is {expected[i]:R}");
    }

    [Theory]
    [InlineData(true, false, 1)]
    [InlineData(true, true, 2)]
    [InlineData(false, false, 2)]
    [InlineData(false, true, 1)]
    public void Batches_are_the_float_sets_batches_bit_for_bit(bool shuffle, bool dropLast, int threads)
    {
        int saved = TensorOps.Threads;
        try
        {
            TensorOps.Threads = threads;
            var (bytes, floats) = Twins();
            Assert.True(bytes.StoredAsBytes);
            for (int epoch = 0; epoch < 2; epoch++)
            {
                var expected = Epoch(new DataLoader<float>(floats, 8, shuffle, dropLast, seed: 3), epoch);
                var actual = Epoch(new DataLoader<float>(bytes, 8, shuffle, dropLast, seed: 3), epoch);
                Assert.Equal(expected.Count, actual.Count);
                for (int b = 0; b < expected.Count; b++)
                {
                    SameBits(expected[b].Features, actual[b].Features, $"epoch {epoch}, batch {b}");
                    Assert.Equal(expected[b].Labels, actual[b].Labels);
                }
            }
            Assert.True(bytes.StoredAsBytes); // batching never decoded the whole set
        }
        finally
        {
            TensorOps.Threads = saved;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batches_gathered_ahead_on_idle_threads_equal_batches_gathered_alone(bool fromBytes)
    {
        // With one thread nothing is gathered ahead; with more, each batch's successor is gathered in the background.
        // Out-of-order requests and a new epoch mid-way must still give each batch its own rows.
        int saved = TensorOps.Threads;
        try
        {
            var (bytes, floats) = Twins(5);
            var data = fromBytes ? bytes : floats;
            TensorOps.Threads = 1;
            var alone = new DataLoader<float>(data, 6, seed: 9);
            var expected = new[] { Epoch(alone, 0), Epoch(alone, 1) };
            foreach (int threads in new[] { 2, 3 })
            {
                TensorOps.Threads = threads;
                var ahead = new DataLoader<float>(data, 6, seed: 9);
                for (int epoch = 0; epoch < 2; epoch++)
                {
                    var actual = Epoch(ahead, epoch);
                    for (int b = 0; b < actual.Count; b++)
                    {
                        SameBits(expected[epoch][b].Features, actual[b].Features, $"{threads} threads, epoch {epoch}, batch {b}");
                        Assert.Equal(expected[epoch][b].Labels, actual[b].Labels);
                    }
                }
                ahead.GetEpoch(1);
                foreach (int b in new[] { 3, 0, 1, 1, 6, 2 })
                {
                    var batch = ahead.GetBatch(b);
                    SameBits(expected[1][b].Features, batch.Features.ToArray(), $"{threads} threads, batch {b} out of order");
                    Assert.Equal(expected[1][b].Labels, batch.Labels.ToArray());
                }
                ahead.GetBatch(2); // leaves batch 3 being gathered; a new epoch must not see it
                var first = ahead.GetEpoch(0).GetEnumerator();
                Assert.True(first.MoveNext());
                SameBits(expected[0][0].Features, first.Current.Features.ToArray(), $"{threads} threads, first batch after a new epoch");
            }
        }
        finally
        {
            TensorOps.Threads = saved;
        }
    }

    [Fact]
    public void A_batch_held_during_kernel_runs_is_left_alone_while_the_next_is_gathered()
    {
        // Batches of 32 rows of 784 bytes: eight background parts, taken by helpers kept awake by matrix products run
        // between the batches, as a training step runs them. The held batch must not change, and every batch must equal
        // the one-thread loader's.
        int saved = TensorOps.Threads;
        try
        {
            var rng = new Rng(11);
            var pixels = new byte[300 * 784];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
            var data = new Dataset<float>(pixels, [784], 255f, Enumerable.Range(0, 300).Select(i => i % 10).ToArray(), 10);
            TensorOps.Threads = 1;
            var expected = Epoch(new DataLoader<float>(data, 32, seed: 4), 0);
            TensorOps.Threads = 2;
            var a = Tensor<float>.RandomUniform(rng, -1, 1, 128, 128);
            var c = new Tensor<float>(128, 128);
            var loader = new DataLoader<float>(data, 32, seed: 4);
            int b = 0;
            foreach (var batch in loader.GetEpoch(0))
            {
                for (int k = 0; k < 20; k++) TensorOps.MatMul(a, a, c); // the next batch is being gathered now
                SameBits(expected[b].Features, batch.Features.ToArray(), $"batch {b}, held while the next was gathered");
                Assert.Equal(expected[b].Labels, batch.Labels.ToArray());
                b++;
            }
            Assert.Equal(expected.Count, b);
        }
        finally
        {
            TensorOps.Threads = saved;
        }
    }

    [Fact]
    public void A_batch_gathered_ahead_from_bytes_is_not_used_once_Features_has_been_read()
    {
        int saved = TensorOps.Threads;
        try
        {
            TensorOps.Threads = 2;
            var (bytes, _) = Twins(6);
            var loader = new DataLoader<float>(bytes, 8, seed: 2);
            loader.GetEpoch(0);
            loader.GetBatch(0); // batch 1 is gathered ahead, from the bytes
            bytes.Features.Span.Fill(-5f); // Features is the data now
            Assert.All(loader.GetBatch(1).Features.ToArray(), v => Assert.Equal(-5f, v));
        }
        finally
        {
            TensorOps.Threads = saved;
        }
    }

    [Fact]
    public void Every_byte_decodes_to_its_correctly_rounded_quotient_on_every_instruction_set()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        int[] rows = Enumerable.Range(0, 16).Reverse().ToArray();
        foreach (float divisor in new[] { 255f, 3f, 127.5f, -7f })
        {
            SimdLevels.ForEach(level =>
            {
                var decoded = new float[256];
                TensorOps.DecodeBytes(all, divisor, decoded);
                var gathered = new Tensor<float>(16, 16);
                TensorOps.GatherRows<float>(all, 16, divisor, rows, gathered);
                for (int b = 0; b < 256; b++)
                {
                    float exact = (float)((double)b / divisor); // a double quotient of these rounds once more to the float quotient
                    Assert.True(BitConverter.SingleToInt32Bits(exact) == BitConverter.SingleToInt32Bits(decoded[b]), $"{level}: {b}/{divisor} gave {decoded[b]:R}, expected {exact:R}");
                    int r = Array.IndexOf(rows, b / 16);
                    Assert.True(BitConverter.SingleToInt32Bits(exact) == BitConverter.SingleToInt32Bits(gathered[r, b % 16]), $"{level}: gathered {b}/{divisor}");
                }
                var doubles = new double[256];
                TensorOps.DecodeBytes(all, (double)divisor, doubles);
                for (int b = 0; b < 256; b++) Assert.Equal(b / (double)divisor, doubles[b]);
            });
        }
    }

    [Fact]
    public void Take_subset_and_both_splits_give_the_float_sets_samples()
    {
        var (bytes, floats) = Twins(2);
        void Same(Dataset<float> expected, Dataset<float> actual, string what, bool decoded = false)
        {
            Assert.True(actual.StoredAsBytes != decoded, what);
            Assert.Equal(expected.SampleShape, actual.SampleShape);
            Assert.Equal(expected.Labels, actual.Labels);
            SameBits(expected.Features.ToArray(), actual.Features.ToArray(), what);
        }
        Same(floats.Take(10), bytes.Take(10), "Take");
        Same(floats.Subset([5, 0, 36, 5]), bytes.Subset([5, 0, 36, 5]), "Subset");
        var (ft, fv) = floats.Split(0.3, seed: 4);
        var (bt, bv) = bytes.Split(0.3, seed: 4);
        Same(ft, bt, "Split train");
        Same(fv, bv, "Split validation");
        var (bytes2, floats2) = Twins(2);
        var (ft2, fv2) = floats2.SplitInPlace(0.3, seed: 4);
        var (bt2, bv2) = bytes2.SplitInPlace(0.3, seed: 4);
        Same(ft2, bt2, "SplitInPlace train");
        Same(fv2, bv2, "SplitInPlace validation");
        Same(ft, bt2, "SplitInPlace against Split", decoded: true);
    }

    [Fact]
    public void Reading_Features_decodes_once_and_the_tensor_becomes_the_data()
    {
        var (bytes, floats) = Twins(3);
        var features = bytes.Features;
        Assert.False(bytes.StoredAsBytes);
        Assert.Same(features, bytes.Features);
        Assert.Equal([Count, 1, 3, 5], features.Shape.ToArray());
        SameBits(floats.Features.ToArray(), features.ToArray(), "Features");
        // An edit to the decoded tensor shows in the batches: it is the data now.
        features.Span[2 * 15 + 1 * 5 + 1] = 42f; // sample 2, channel 0, row 1, column 1
        var batch = new DataLoader<float>(bytes, 4, shuffle: false).GetBatch(0);
        Assert.Equal(42f, batch.Features.At(2, 0, 1, 1));
    }

    [Fact]
    public void A_shuffled_epoch_of_bytes_allocates_nothing_once_warm()
    {
        var (bytes, _) = Twins(4);
        var loader = new DataLoader<float>(bytes, 8, seed: 3);
        foreach (var _ in loader.GetEpoch(0)) { }
        long before = GC.GetAllocatedBytesForCurrentThread();
        float sum = 0;
        for (int e = 1; e < 3; e++)
            foreach (var b in loader.GetEpoch(e)) sum += b.Features.At(0, 0, 0, 0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Wrong_sizes_and_divisors_are_refused_naming_them()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new Dataset<float>(new byte[30], [784], 255f, [0, 1]));
        Assert.Contains("30 bytes", e.Message);
        Assert.Contains("1568", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset<float>(new byte[4], [2], 0f, [0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset<float>(new byte[4], [2], float.NaN, [0, 1]));
        Assert.Throws<ArgumentException>(() => new Dataset<float>(new byte[4], [2, 0], 255f, [0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset<float>(new byte[4], [2], 255f, [0, 3], numClasses: 2));
        var g = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.GatherRows<float>(new byte[8], 4, 255f, [0, 2], new Tensor<float>(2, 4)));
        Assert.Contains("row 2", g.Message);
        Assert.Throws<ShapeMismatchException>(() => TensorOps.GatherRows<float>(new byte[8], 4, 255f, [0], new Tensor<float>(1, 5)));
        Assert.Throws<ShapeMismatchException>(() => TensorOps.DecodeBytes<float>(new byte[3], 255f, new float[4]));
    }
}
