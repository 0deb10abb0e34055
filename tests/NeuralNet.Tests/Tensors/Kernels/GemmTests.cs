using System.Numerics;
using System.Runtime.Intrinsics.X86;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

[Collection("Serial")]
public class GemmTests
{
    private static readonly int[] s_sizes = [1, 3, 7, 17, 129, 300];

    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        var triples = new List<(int, int, int)>();
        foreach (int s in s_sizes) triples.Add((s, s, s));
        triples.AddRange([(1, 300, 7), (300, 1, 17), (17, 129, 3), (129, 7, 300), (3, 17, 1), (7, 300, 129), (300, 17, 129), (129, 300, 1)]);
        foreach (var (m, n, k) in triples)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(m, n, k, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_matches_reference(int m, int n, int k, bool transA, bool transB) =>
        CompareWithReference<float>(m, n, k, transA, transB, 1e-5, alpha: 1, beta: 0, seed: (ulong)(m * 7 + n * 13 + k));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Double_matches_reference(int m, int n, int k, bool transA, bool transB) =>
        CompareWithReference<double>(m, n, k, transA, transB, 1e-12, alpha: 1, beta: 0, seed: (ulong)(m * 7 + n * 13 + k));

    [Theory]
    [InlineData(17, 129, 300, false, true, 0.5, 2.0)]
    [InlineData(129, 17, 7, true, false, -1.5, 1.0)]
    [InlineData(300, 300, 17, false, false, 2.0, -0.25)]
    [InlineData(7, 3, 129, true, true, 1.0, 1.0)]
    public void Alpha_and_beta_are_applied(int m, int n, int k, bool transA, bool transB, double alpha, double beta)
    {
        CompareWithReference<float>(m, n, k, transA, transB, 1e-5, alpha, beta, seed: 5);
        CompareWithReference<double>(m, n, k, transA, transB, 1e-12, alpha, beta, seed: 5);
    }

    [Fact]
    public void Crosses_every_cache_block_boundary()
    {
        // m > MC, k > KC, n > NC for double (1024) and past several float strips.
        CompareWithReference<double>(150, 1100, 300, false, false, 1e-12, 1, 0, seed: 9);
        CompareWithReference<float>(300, 2100, 260, true, true, 1e-5, 1, 0, seed: 9);
    }

    [Fact]
    public void Respects_leading_dimensions_of_sub_matrices()
    {
        // Multiply windows of larger matrices: A is 5×9 inside a 5×12 buffer, etc.
        var rng = new Rng(3);
        int m = 5, n = 7, k = 9, lda = 12, ldb = 10, ldc = 11;
        var a = Tensor<double>.RandomNormal(rng, 0, 1, m * lda).ToArray();
        var b = Tensor<double>.RandomNormal(rng, 0, 1, k * ldb).ToArray();
        var c = Tensor<double>.RandomNormal(rng, 0, 1, m * ldc).ToArray();
        var expected = (double[])c.Clone();
        GemmReference.Multiply(false, false, m, n, k, 1.0, a, lda, b, ldb, 0.5, expected, ldc);
        Gemm.Multiply(false, false, m, n, k, 1.0, a, lda, b, ldb, 0.5, c, ldc);
        for (int i = 0; i < c.Length; i++) Assert.Equal(expected[i], c[i], 1e-12);
        // Padding columns of C beyond n are untouched.
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++) Assert.Equal(expected[i * ldc + j], c[i * ldc + j]);
    }

    [Fact]
    public void Beta_zero_overwrites_nan()
    {
        var a = new float[] { 1, 2, 3, 4 };
        var b = new float[] { 1, 0, 0, 1 };
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.Multiply(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(a, c);
    }

    [Fact]
    public void Result_does_not_depend_on_thread_count()
    {
        var rng = new Rng(11);
        int m = 300, n = 260, k = 300;
        var a = Tensor<float>.RandomNormal(rng, 0, 1, m * k).ToArray();
        var b = Tensor<float>.RandomNormal(rng, 0, 1, k * n).ToArray();
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c1, n);
            Parallelism.MaxThreads = 4;
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c2, n);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
        Assert.Equal(c1, c2);
    }

    [Theory]
    [InlineData(128, 128, 784, false, true)]   // a Linear layer's forward: x·Wᵀ
    [InlineData(128, 784, 128, true, false)]   // its weight gradient: dyᵀ·x
    [InlineData(67, 45, 33, false, false)]     // edges: neither side a whole number of tiles
    [InlineData(45, 67, 33, true, true)]
    public void Rows_and_columns_splits_give_the_same_bytes_as_the_default(int m, int n, int k, bool transA, bool transB)
    {
        var rng = new Rng(23);
        var a = Tensor<float>.RandomNormal(rng, 0, 1, m * k).ToArray();
        var b = Tensor<float>.RandomNormal(rng, 0, 1, k * n).ToArray();
        var c0 = Tensor<float>.RandomNormal(rng, 0, 1, m * n).ToArray();
        int lda = transA ? m : k, ldb = transB ? k : n;
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (var level in Simd.Supported)
            {
                using var scope = new SimdScope(level);
                Parallelism.MaxThreads = 1;
                var expected = (float[])c0.Clone();
                Gemm.Multiply(transA, transB, m, n, k, 1f, a, lda, b, ldb, 1f, expected, n);
                foreach (int threads in new[] { 2, 3 })
                    foreach (var split in new[] { MatMulSplit.Auto, MatMulSplit.Rows, MatMulSplit.Columns })
                    {
                        Parallelism.MaxThreads = threads;
                        var c = (float[])c0.Clone();
                        Gemm.Multiply(transA, transB, m, n, k, 1f, a, lda, b, ldb, 1f, c, n, split);
                        Assert.True(expected.AsSpan().SequenceEqual(c), $"{level}, {threads} threads, {split}: bytes differ from one thread");
                    }
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Theory]
    [InlineData(128, 64, 784, true)]    // a thread's half of a Linear forward, x·Wᵀ
    [InlineData(131, 45, 1000, false)]  // edge rows and columns, three k-blocks
    [InlineData(5, 16, 16, true)]       // fewer rows than one tile
    [InlineData(700, 33, 40, false)]    // more rows than one m-block
    public unsafe void Rows_read_in_place_give_the_packed_paths_bytes(int m, int n, int k, bool transB)
    {
        var rng = new Rng(29);
        var a = Tensor<float>.RandomNormal(rng, 0, 1, m * k).ToArray();
        var b = Tensor<float>.RandomNormal(rng, 0, 1, k * n).ToArray();
        var c0 = Tensor<float>.RandomNormal(rng, 0, 1, m * n).ToArray();
        // Zero rows of A and −0s in C (the last row of each, in the edge tiles): the paths must agree on signed zeros too.
        a.AsSpan((m - 1) * k).Fill(-0f);
        c0.AsSpan((m - 1) * n).Fill(-0f);
        int ldb = transB ? k : n;
        int tested = 0;
        foreach (var level in Simd.Supported)
        {
            if (!GemmRowsInPlace.Applies(level, false, 1f, k, k)) continue;
            foreach (float beta in new[] { 0f, 1f })
            {
                var packed = (float[])c0.Clone();
                var direct = (float[])c0.Clone();
                fixed (float* pa = a, pb = b, pp = packed, pd = direct)
                {
                    var packA = new StridedA<float>(false, pa, k);
                    var packB = new StridedB<float>(transB, pb, ldb);
                    GemmCore.Run(level, m, n, k, ref packA, ref packB, 1f, beta, pp, n);
                    packB = new StridedB<float>(transB, pb, ldb);
                    GemmRowsInPlace.Run(level, m, n, k, pa, k, ref packB, beta, pd, n);
                }
                Assert.True(packed.AsSpan().SequenceEqual(direct), $"{level}, β = {beta}: in-place rows differ from the packed path");
                tested++;
            }
        }
        if (Fma.IsSupported) Assert.True(tested > 0, "no level ran the in-place path on this machine");
    }

    [Theory]
    [InlineData(128, 64, 784, true)]    // 21 strips of 6 rows and one of 2: a batch of 128
    [InlineData(127, 45, 300, false)]   // one row over, edge columns
    [InlineData(2, 16, 40, true)]       // only the short strip
    public unsafe void Rows_left_over_by_the_tile_get_the_bytes_of_a_full_tile(int m, int n, int k, bool transB)
    {
        // The last one or two rows run a 2-row kernel; the same rows as part of a full strip (A given rows up to a multiple
        // of 6, the extra ones anything) must come out the same bit for bit, packed or read in place, with β 0 and 1.
        var rng = new Rng(31);
        int padded = (m + 5) / 6 * 6 + 6;
        var a = Tensor<float>.RandomNormal(rng, 0, 1, padded * k).ToArray();
        var b = Tensor<float>.RandomNormal(rng, 0, 1, k * n).ToArray();
        var c0 = Tensor<float>.RandomNormal(rng, 0, 1, padded * n).ToArray();
        int ldb = transB ? k : n;
        foreach (var level in Simd.Supported)
        {
            foreach (float beta in new[] { 0f, 1f })
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    if (inPlace && !GemmRowsInPlace.Applies(level, false, 1f, k, k)) continue;
                    var exact = (float[])c0.Clone();
                    var full = (float[])c0.Clone();
                    fixed (float* pa = a, pb = b, pe = exact, pf = full)
                    {
                        foreach (var (rows, c) in new[] { ((long)m, (nint)pe), ((long)padded, (nint)pf) })
                        {
                            var packB = new StridedB<float>(transB, pb, ldb);
                            if (inPlace) GemmRowsInPlace.Run(level, (int)rows, n, k, pa, k, ref packB, beta, (float*)c, n);
                            else
                            {
                                var packA = new StridedA<float>(false, pa, k);
                                GemmCore.Run(level, (int)rows, n, k, ref packA, ref packB, 1f, beta, (float*)c, n);
                            }
                        }
                    }
                    Assert.True(exact.AsSpan(0, m * n).SequenceEqual(full.AsSpan(0, m * n)),
                        $"{level}, β = {beta}, {(inPlace ? "in place" : "packed")}: the rows of a {m}-row product differ from the same rows in a full strip");
                }
            }
        }
    }

    [Fact]
    public void Each_level_is_deterministic_and_levels_agree_closely()
    {
        var rng = new Rng(17);
        int m = 131, n = 97, k = 530;
        var a = Tensor<float>.RandomNormal(rng, 0, 1, m * k).ToArray();
        var b = Tensor<float>.RandomNormal(rng, 0, 1, k * n).ToArray();
        var first = new Dictionary<SimdLevel, float[]>();
        foreach (var level in Simd.Supported)
        {
            var c1 = new float[m * n];
            var c2 = new float[m * n];
            using (new SimdScope(level))
            {
                Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c1, n);
                Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c2, n);
            }
            Assert.Equal(c1, c2);
            first[level] = c1;
        }
        foreach (var level in Simd.Supported)
            for (int i = 0; i < m * n; i++) Assert.Equal(first[SimdLevel.Scalar][i], first[level][i], 1e-3f);
    }

    [Fact]
    public void Active_level_cannot_exceed_what_the_machine_supports()
    {
        // One past the widest level: refused on every machine, and the active level stays as it was.
        var before = Simd.Active;
        var e = Assert.Throws<NotSupportedException>(() => Simd.Active = (SimdLevel)((int)Simd.Best + 1));
        Assert.Contains(Simd.Best.ToString(), e.Message);
        Assert.Equal(before, Simd.Active);
    }

    [Fact]
    public void Avx512_switch_of_the_runtime_is_honoured()
    {
        // CI runs the kernel tests once more with DOTNET_EnableAVX512=0: then the 512-bit path must be off.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0")
        {
            Assert.NotEqual(SimdLevel.Vector512, Simd.Best);
            Assert.DoesNotContain(SimdLevel.Vector512, Simd.Supported);
        }
        else if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            Assert.Equal(SimdLevel.Vector512, Simd.Best);
        }
    }

    [Fact]
    public void Too_short_buffer_names_the_matrix_and_sizes()
    {
        var a = new float[7];
        var b = new float[12];
        var c = new float[6];
        var e = Assert.Throws<ShapeMismatchException>(() => Gemm.Multiply(false, false, 2, 3, 4, 1f, a, 4, b, 3, 0f, c, 3));
        Assert.Contains("A is stored (2, 4)", e.Message);
        Assert.Contains("needs 8 elements, but only 7", e.Message);
    }

    private static void CompareWithReference<T>(int m, int n, int k, bool transA, bool transB, double tolerance, double alpha, double beta, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        int lda = transA ? m : k, ldb = transB ? k : n;
        var a = Tensor<T>.RandomUniform(rng, -1, 1, m * k).ToArray();
        var b = Tensor<T>.RandomUniform(rng, -1, 1, k * n).ToArray();
        var c0 = Tensor<T>.RandomUniform(rng, -1, 1, m * n).ToArray();
        var expected = (T[])c0.Clone();
        T ta = T.CreateChecked(alpha), tb = T.CreateChecked(beta);
        GemmReference.Multiply(transA, transB, m, n, k, ta, a, lda, b, ldb, tb, expected, n);
        // Every instruction set this machine runs: each has its own micro-kernel, tile and blocking.
        foreach (var level in Simd.Supported)
        {
            var actual = (T[])c0.Clone();
            using (new SimdScope(level)) Gemm.Multiply(transA, transB, m, n, k, ta, a, lda, b, ldb, tb, actual, n);

            // Relative to the scale of the result: max |error| / max(1, max |expected|).
            double maxErr = 0, maxRef = 1;
            for (int i = 0; i < expected.Length; i++)
            {
                maxErr = Math.Max(maxErr, Math.Abs(double.CreateChecked(actual[i] - expected[i])));
                maxRef = Math.Max(maxRef, Math.Abs(double.CreateChecked(expected[i])));
            }
            Assert.True(maxErr / maxRef <= tolerance,
                $"{typeof(T).Name} gemm at {level}, m={m} n={n} k={k} transA={transA} transB={transB}: relative error {maxErr / maxRef:E3} > {tolerance:E0}");
        }
    }
}
