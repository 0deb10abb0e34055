using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// Implicit im2col: B[kk, q] = x[kOff[kk] + qOff[q]], packed straight into GEMM panels without forming the column
/// matrix. x is a zero-padded image (C, Hp, Wp); kk = (c, i, j) runs over the kernel window with
/// kOff[kk] = c·Hp·Wp + i·Wp + j, and q = (oh, ow) over the output with qOff[q] = oh·s·Wp + ow·s. Because the image is
/// padded, every address is valid and no bounds are tested. Each packed row of a strip is one gather through qOff.
/// </summary>
internal readonly unsafe struct PatchB<T>(T* x, int* kOff, int* qOff, PatchRuns runs) : IPackB<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int row0, int col0, int kc, int nc, int nr, T* dst)
    {
        for (int s = 0; s < nc; s += nr)
        {
            int cols = Math.Min(nr, nc - s);
            T* strip = dst + (long)s * kc;
            int* q = qOff + col0 + s;
            int* k = kOff + row0;
            if (cols == nr && typeof(T) == typeof(float) && runs.TryCopy((float*)x, k, (col0 + s) / nr, kc, nr, (float*)strip)) continue;
            if (cols == nr && typeof(T) == typeof(float) && PatchGather.TryFloat((float*)x, k, q, kc, nr, (float*)strip)) continue;
            for (int p = 0; p < kc; p++)
            {
                T* src = x + k[p];
                T* d = strip + (long)p * nr;
                int j = 0;
                for (; j < cols; j++) d[j] = src[q[j]];
                for (; j < nr; j++) d[j] = default;
            }
        }
    }
}

/// <summary>
/// For stride 1 the NR output positions of a packed strip fall into a few runs, one per output row they touch, and
/// within a run the patch values are consecutive in the padded image. Each strip is described once as its runs
/// (start in the strip, length, offset in the image), and a packed row is then a few vector copies instead of a
/// gather per value. Copies are whole 8-float vectors and may run past a run's end: the next run, the next row or the
/// next strip overwrites that, and buffers keep <see cref="GemmBuffers{T}.Slack"/> elements of room at their end.
/// </summary>
internal sealed unsafe class PatchRuns
{
    private int[] _first = [];   // per strip: index of its first run; one extra entry ends the last strip
    private int[] _runs = [];    // per run: start j in the strip, length, image offset (3 ints)
    private int _nr, _positions;

    /// <summary>No runs: every packer falls back to gathers.</summary>
    public static PatchRuns None { get; } = new();

    public bool IsBuilt(int nr, int positions) => _nr == nr && _positions == positions;

    /// <summary>Forgets the tables (the geometry changed).</summary>
    public void Reset() => _nr = 0;

    /// <summary>Describes the full strips of <paramref name="nr"/> positions among qOff[0..positions), runs being maximal stretches with consecutive offsets.</summary>
    public void Build(int nr, ReadOnlySpan<int> qOff)
    {
        int strips = qOff.Length / nr;
        var first = new int[strips + 1];
        var runs = new List<int>();
        for (int t = 0; t < strips; t++)
        {
            first[t] = runs.Count / 3;
            int j = 0;
            while (j < nr)
            {
                int start = j, offset = qOff[t * nr + j];
                while (j + 1 < nr && qOff[t * nr + j + 1] == qOff[t * nr + j] + 1) j++;
                j++;
                runs.Add(start);
                runs.Add(j - start);
                runs.Add(offset);
            }
        }
        first[strips] = runs.Count / 3;
        _first = GC.AllocateArray<int>(first.Length, pinned: true);
        first.CopyTo(_first, 0);
        _runs = GC.AllocateArray<int>(Math.Max(1, runs.Count), pinned: true);
        runs.CopyTo(_runs);
        (_nr, _positions) = (nr, qOff.Length);
    }

    /// <summary>
    /// Packs rows p &lt; rows of full strip <paramref name="strip"/>: dst[p·nr + j] = (x + kOff[p])[qOff[strip·nr + j]].
    /// False when the runs were built for another NR or the strip is not a full one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryCopy(float* x, int* kOff, int strip, int rows, int nr, float* dst)
    {
        if (nr != _nr || strip + 1 >= _first.Length || !Vector256.IsHardwareAccelerated) return false;
        int r0 = _first[strip], r1 = _first[strip + 1];
        fixed (int* runs = _runs)
        {
            for (int p = 0; p < rows; p++)
            {
                float* src = x + kOff[p];
                float* d = dst + (long)p * nr;
                for (int r = r0; r < r1; r++)
                {
                    int* run = runs + 3 * r;
                    float* from = src + run[2];
                    float* to = d + run[0];
                    for (int t = 0; t < run[1]; t += 8) Vector256.Load(from + t).Store(to + t);
                }
            }
        }
        return true;
    }
}

/// <summary>
/// The transposed patches of several padded images, for the weight gradient dW = Σₙ Gₙ·colsₙᵀ as one GEMM whose
/// inner dimension runs over (sample, output position): B[(n, q), kk] = xₙ[qOff[q] + kOff[kk]], with
/// xₙ = x + n·imageStride and q &lt; positions.
/// </summary>
internal readonly unsafe struct PatchTransposedB<T>(T* x, long imageStride, int positions, int* kOff, int* qOff, int outWidth) : IPackB<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int row0, int col0, int kc, int nc, int nr, T* dst)
    {
        for (int s = 0; s < nc; s += nr)
        {
            int cols = Math.Min(nr, nc - s);
            T* strip = dst + (long)s * kc;
            int* k = kOff + col0 + s;
            if (cols == nr && typeof(T) == typeof(float) && TryGather(row0, kc, nr, k, (float*)strip)) continue;
            int n = row0 / positions, q = row0 - n * positions;
            T* image = x + n * imageStride;
            for (int p = 0; p < kc; p++)
            {
                T* src = image + qOff[q];
                T* d = strip + (long)p * nr;
                int j = 0;
                for (; j < cols; j++) d[j] = src[k[j]];
                for (; j < nr; j++) d[j] = default;
                if (++q == positions)
                {
                    q = 0;
                    image += imageStride;
                }
            }
        }
    }

    /// <summary>
    /// A full strip with AVX2. With stride 1 (<c>outWidth</c> &gt; 0) eight consecutive positions of one output row read
    /// eight consecutive values of every patch row, so 8 positions × 8 patch entries are loaded as eight vectors and
    /// transposed in registers; other rows are gathered, the strip's kOff indices held in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryGather(int row0, int kc, int nr, int* k, float* strip)
    {
        if (!Avx2.IsSupported || !Simd.Use256 || (nr != 16 && nr != 32)) return false;
        int n = row0 / positions, q = row0 - n * positions;
        int column = outWidth > 0 ? q % outWidth : 0;
        float* image = (float*)x + n * imageStride;
        var i0 = Vector256.Load(k);
        var i1 = Vector256.Load(k + 8);
        var i2 = nr == 32 ? Vector256.Load(k + 16) : default;
        var i3 = nr == 32 ? Vector256.Load(k + 24) : default;
        for (int p = 0; p < kc;)
        {
            float* src = image + qOff[q];
            float* d = strip + (long)p * nr;
            int step;
            if (outWidth > 0 && column + 8 <= outWidth && p + 8 <= kc)
            {
                for (int g = 0; g < nr; g += 8) TransposeRows8(src, k + g, d + g, nr);
                step = 8;
            }
            else
            {
                Avx2.GatherVector256(src, i0, 4).Store(d);
                Avx2.GatherVector256(src, i1, 4).Store(d + 8);
                if (nr == 32)
                {
                    Avx2.GatherVector256(src, i2, 4).Store(d + 16);
                    Avx2.GatherVector256(src, i3, 4).Store(d + 24);
                }
                step = 1;
            }
            p += step;
            q += step;
            column += step;
            if (outWidth > 0 && column == outWidth) column = 0;
            if (q == positions)
            {
                q = 0;
                column = 0;
                image += imageStride;
            }
        }
        return true;
    }

    /// <summary>d[t·dstStride + j] = src[offsets[j] + t] for t, j &lt; 8: eight rows at the given offsets, transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeRows8(float* src, int* offsets, float* d, int dstStride) =>
        GemmPacking.TransposeStore8x8(
            Avx.LoadVector256(src + offsets[0]), Avx.LoadVector256(src + offsets[1]),
            Avx.LoadVector256(src + offsets[2]), Avx.LoadVector256(src + offsets[3]),
            Avx.LoadVector256(src + offsets[4]), Avx.LoadVector256(src + offsets[5]),
            Avx.LoadVector256(src + offsets[6]), Avx.LoadVector256(src + offsets[7]),
            d, dstStride);
}

/// <summary>
/// The output gradients of several samples side by side, for dW = Σₙ Gₙ·colsₙᵀ: A[o, (n, q)] = g[n·O·P + o·P + q],
/// g of shape (N, O, P).
/// </summary>
internal readonly unsafe struct SamplesA<T>(T* g, int channels, int positions) : IPackA<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int row0, int col0, int mc, int kc, int mr, T* dst)
    {
        long sampleStride = (long)channels * positions;
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            T* strip = dst + (long)s * kc;
            for (int i = 0; i < mr; i++)
            {
                T* d = strip + i;
                if (i >= rows)
                {
                    for (int p = 0; p < kc; p++) d[(long)p * mr] = default;
                    continue;
                }
                int n = col0 / positions, q = col0 - n * positions;
                T* row = g + n * sampleStride + (long)(row0 + s + i) * positions;
                for (int p = 0; p < kc; p++)
                {
                    d[(long)p * mr] = row[q];
                    if (++q == positions)
                    {
                        q = 0;
                        row += sampleStride;
                    }
                }
            }
        }
    }
}

/// <summary>Vector gathers for the patch packers: one packed row of NR floats per NR/8 eight-lane gathers.</summary>
internal static unsafe class PatchGather
{
    /// <summary>
    /// For p in [0, rows): dst[p·nr + j] = (x + (kOff is null ? 0 : kOff[p]))[idx[j]], j &lt; nr, with AVX2 gathers. Returns false (doing nothing) when no vector gather applies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryFloat(float* x, int* kOff, int* idx, int rows, int nr, float* dst)
    {
        if (Simd.Use512 && Avx2.IsSupported && nr == 32)
        {
            var i0 = Vector256.Load(idx);
            var i1 = Vector256.Load(idx + 8);
            var i2 = Vector256.Load(idx + 16);
            var i3 = Vector256.Load(idx + 24);
            for (int p = 0; p < rows; p++)
            {
                float* src = kOff is null ? x : x + kOff[p];
                float* d = dst + (long)p * 32;
                Avx2.GatherVector256(src, i0, 4).Store(d);
                Avx2.GatherVector256(src, i1, 4).Store(d + 8);
                Avx2.GatherVector256(src, i2, 4).Store(d + 16);
                Avx2.GatherVector256(src, i3, 4).Store(d + 24);
            }
            return true;
        }
        if (Simd.Use256 && Avx2.IsSupported && nr == 16)
        {
            var i0 = Vector256.Load(idx);
            var i1 = Vector256.Load(idx + 8);
            for (int p = 0; p < rows; p++)
            {
                float* src = kOff is null ? x : x + kOff[p];
                float* d = dst + (long)p * 16;
                Avx2.GatherVector256(src, i0, 4).Store(d);
                Avx2.GatherVector256(src, i1, 4).Store(d + 8);
            }
            return true;
        }
        return false;
    }
}
