using NeuralNet.Tensors;

namespace NeuralNet.Tests.Tensors;

public class RngTests
{
    /// <summary>
    /// An independent xoshiro256** seeded through SplitMix64 (Blackman and Vigna's reference C, transcribed
    /// without BCL helpers), so the pinned stream does not depend on the class under test.
    /// </summary>
    private static ulong[] ReferenceXoshiro(ulong seed, int count)
    {
        static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

        var s = new ulong[4];
        ulong x = seed;
        for (int i = 0; i < 4; i++)
        {
            x += 0x9E3779B97F4A7C15UL;
            ulong z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            s[i] = z ^ (z >> 31);
        }

        var output = new ulong[count];
        for (int n = 0; n < count; n++)
        {
            output[n] = Rotl(s[1] * 5, 7) * 9;
            ulong t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = Rotl(s[3], 45);
        }
        return output;
    }

    [Fact]
    public void Seed_42_gives_the_pinned_xoshiro256starstar_stream()
    {
        var rng = new Rng(42);
        ulong[] actual = [rng.NextUInt64(), rng.NextUInt64(), rng.NextUInt64()];
        Assert.Equal(ReferenceXoshiro(42, 3), actual);
        // The same three words as literals (computed once by a third, Python, implementation), so a change to
        // both implementations at once is still caught.
        Assert.Equal([0x15780B2E0C2EC716UL, 0x6104D9866D113A7EUL, 0xAE17533239E499A1UL], actual);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(123456789UL)]
    [InlineData(ulong.MaxValue)]
    public void Matches_the_reference_for_other_seeds(ulong seed)
    {
        var rng = new Rng(seed);
        var actual = new ulong[100];
        for (int i = 0; i < actual.Length; i++) actual[i] = rng.NextUInt64();
        Assert.Equal(ReferenceXoshiro(seed, 100), actual);
    }

    [Fact]
    public void Same_seed_gives_the_same_sequence()
    {
        var a = new Rng(2024);
        var b = new Rng(2024);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
            Assert.Equal(a.NextDouble(), b.NextDouble());
            Assert.Equal(a.NextNormal(), b.NextNormal());
            Assert.Equal(a.NextInt(97), b.NextInt(97));
        }
    }

    [Fact]
    public void Different_seeds_give_different_sequences()
    {
        var a = new Rng(1);
        var b = new Rng(2);
        int same = 0;
        for (int i = 0; i < 100; i++)
            if (a.NextUInt64() == b.NextUInt64()) same++;
        Assert.Equal(0, same);
    }

    [Fact]
    public void NextDouble_is_in_unit_interval_and_uses_53_bits()
    {
        var rng = new Rng(5);
        double sum = 0;
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble();
            Assert.True(u >= 0.0 && u < 1.0, $"sample {i} = {u} is outside [0, 1)");
            // Multiples of 2^-53 only.
            Assert.Equal(Math.Floor(u * 9007199254740992.0), u * 9007199254740992.0);
            sum += u;
        }
        Assert.Equal(0.5, sum / n, 0.005);  // SE of the mean ≈ 0.0009
    }

    [Fact]
    public void NextDouble_in_range_is_in_range()
    {
        var rng = new Rng(6);
        double min = double.MaxValue, max = double.MinValue;
        for (int i = 0; i < 10_000; i++)
        {
            double u = rng.NextDouble(-3.0, 2.0);
            min = Math.Min(min, u);
            max = Math.Max(max, u);
        }
        Assert.InRange(min, -3.0, -2.99);
        Assert.InRange(max, 1.99, 2.0);
        Assert.True(max < 2.0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void NextInt_stays_in_range(int n)
    {
        var rng = new Rng((ulong)n);
        for (int i = 0; i < 10_000; i++) Assert.InRange(rng.NextInt(n), 0, n - 1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void NextInt_rejects_non_positive_bounds(int n) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rng(1).NextInt(n));

    [Theory]
    [InlineData(10)]
    [InlineData(7)]
    [InlineData(33)]
    public void NextInt_is_roughly_uniform(int n)
    {
        var rng = new Rng(99);
        const int draws = 100_000;
        var counts = new int[n];
        for (int i = 0; i < draws; i++) counts[rng.NextInt(n)]++;

        double expected = (double)draws / n;
        double chi2 = 0;
        foreach (int c in counts) chi2 += (c - expected) * (c - expected) / expected;
        // χ² has n−1 degrees of freedom: mean n−1, sd √(2(n−1)). Allow about 6 sd (loose, fixed seed).
        double bound = (n - 1) + 6 * Math.Sqrt(2.0 * (n - 1));
        Assert.True(chi2 < bound, $"χ² = {chi2:F1} over {n} bins exceeds {bound:F1}; counts: {string.Join(", ", counts)}");
    }

    [Fact]
    public void NextNormal_has_mean_zero_and_unit_variance()
    {
        var rng = new Rng(314);
        const int n = 200_000;
        double sum = 0, sumSq = 0;
        int beyond3 = 0;
        for (int i = 0; i < n; i++)
        {
            double z = rng.NextNormal();
            Assert.True(double.IsFinite(z));
            sum += z;
            sumSq += z * z;
            if (Math.Abs(z) > 3) beyond3++;
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        Assert.Equal(0.0, mean, 0.01);
        Assert.Equal(1.0, variance, 0.02);
        // P(|Z| > 3) = 0.0027: a uniform or a wrong transform would miss this by far.
        Assert.InRange(beyond3 / (double)n, 0.002, 0.0035);
    }

    [Fact]
    public void Shuffle_is_a_permutation_and_moves_elements()
    {
        var rng = new Rng(8);
        int[] items = Enumerable.Range(0, 100).ToArray();
        rng.Shuffle<int>(items);
        Assert.Equal(Enumerable.Range(0, 100), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), items);

        int[] again = Enumerable.Range(0, 100).ToArray();
        new Rng(8).Shuffle<int>(again);
        Assert.Equal(items, again);
    }

    [Fact]
    public void Shuffle_handles_empty_and_single_spans()
    {
        var rng = new Rng(8);
        rng.Shuffle(Span<int>.Empty);
        int[] one = [42];
        rng.Shuffle<int>(one);
        Assert.Equal([42], one);
    }

    [Fact]
    public void Shuffle_of_three_reaches_all_six_orders_equally()
    {
        // Fisher–Yates with an off-by-one (NextInt(i) instead of NextInt(i + 1)) gives only the 2 cyclic orders.
        var rng = new Rng(17);
        var counts = new Dictionary<string, int>();
        const int trials = 60_000;
        int[] a = new int[3];
        for (int t = 0; t < trials; t++)
        {
            a[0] = 0; a[1] = 1; a[2] = 2;
            rng.Shuffle<int>(a);
            string key = string.Concat(a);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(6, counts.Count);
        foreach (var (order, c) in counts)
            Assert.True(Math.Abs(c - trials / 6.0) < 500, $"order {order} appeared {c} times, expected ≈ {trials / 6}");
    }

    [Fact]
    public void State_round_trip_resumes_the_exact_stream_including_a_pending_normal()
    {
        var rng = new Rng(77);
        for (int i = 0; i < 10; i++) rng.NextUInt64();
        rng.NextNormal();  // leaves the second Box–Muller deviate pending

        ulong[] state = rng.GetState();
        Assert.Equal(6, state.Length);

        var expected = new List<double>();
        for (int i = 0; i < 5; i++) expected.Add(rng.NextNormal());  // first one is the spare
        for (int i = 0; i < 5; i++) expected.Add(rng.NextDouble());
        expected.Add(rng.NextUInt64());

        var restored = new Rng(12345);
        restored.NextNormal();
        restored.SetState(state);
        var actual = new List<double>();
        for (int i = 0; i < 5; i++) actual.Add(restored.NextNormal());
        for (int i = 0; i < 5; i++) actual.Add(restored.NextDouble());
        actual.Add(restored.NextUInt64());

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void State_without_a_pending_normal_clears_the_spare()
    {
        var source = new Rng(3);
        ulong[] state = source.GetState();  // fresh: no spare
        double expected = source.NextNormal();

        var target = new Rng(4);
        target.NextNormal();  // target has a spare pending; SetState must drop it
        target.SetState(state);
        Assert.Equal(expected, target.NextNormal());
    }

    [Fact]
    public void SetState_rejects_wrong_length()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Rng(1).SetState(new ulong[4]));
        Assert.Contains("4", ex.Message);
    }
}
