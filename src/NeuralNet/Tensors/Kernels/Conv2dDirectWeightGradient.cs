using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The weight gradient of a stride-1 convolution with the image read in place. Transposed, it is a GEMM whose
/// "A" rows are rows of the zero-padded image:
/// <code>
///   dWᵀ[kk, o] += Σ_q x[kOff[kk] + qOff[q]] · G[o, q]        kk = (c, i, j), kOff[kk] = c·Hp·Wp + i·Wp + j, qOff[q] = oh·Wp + ow
/// </code>
/// A register tile of MR window entries × NR output channels broadcasts one image value per entry (MR pointers
/// into the image, walked along the output positions, the padded columns skipped) and multiplies it into NR/W
/// vectors of Gᵀ, the only operand that is packed: P × NR strips, a transpose of G that is P·O values per sample
/// instead of the K·P of the patch matrix. The tiles are <see cref="Conv2dDirect"/>'s (6×16 at 256 bits, 8×32 at
/// 512). For one sample the sums run over the positions in order, so the result does not depend on the thread count.
/// </summary>
internal static unsafe class Conv2dDirectWeightGradient
{
    /// <summary>
    /// True for float, stride 1, at 256 bits with FMA or at 512 bits, when the <paramref name="outChannels"/> fill
    /// NR-wide strips to at least four fifths (as for <see cref="Conv2dDirect"/>: thin strips multiply zeros).
    /// </summary>
    public static bool Applies<T>(SimdLevel level, int stride, int outChannels) where T : unmanaged =>
        typeof(T) == typeof(float) && stride == 1 && Vector256.IsHardwareAccelerated &&
        (level == SimdLevel.Vector512 || (level == SimdLevel.Vector256 && Fma.IsSupported)) && Conv2dDirect.FillsTiles(level, outChannels);

    public static int MR(SimdLevel level) => Conv2dDirect.MR(level);

    public static int NR(SimdLevel level) => Conv2dDirect.NR(level);

    /// <summary>Floats of the transposed-gradient scratch for one sample: P · O rounded up to NR.</summary>
    public static long PackedLength(SimdLevel level, int channels, int positions) => (long)RoundUp(channels, NR(level)) * positions;

    /// <summary>Floats of the accumulator dWᵀ: K rounded up to MR rows of O rounded up to NR.</summary>
    public static long AccumulatorLength(SimdLevel level, int k, int channels) => (long)RoundUp(k, MR(level)) * RoundUp(channels, NR(level));

    /// <summary>
    /// acc (Kpad, Opad) += this sample's dWᵀ. <paramref name="image"/> is the padded image (C, Hp, Wp),
    /// <paramref name="g"/> its output gradient (O, P) with P = <paramref name="positions"/>, <paramref name="qOff"/> the
    /// image offset of each output position (oh·Wp + ow); <paramref name="packed"/> is scratch of
    /// <see cref="PackedLength"/> floats (aligned to 64 bytes, so the strips' vectors do not straddle cache lines).
    /// The tiles are <see cref="Conv2dDirect"/>'s with the roles turned: the broadcast pointers walk the image rows of MR
    /// window entries through qOff, and Gᵀ's strips are the vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(SimdLevel level, float* image, int* kOff, int k, float* g, int channels,
        int* qOff, int positions, float* packed, float* acc)
    {
        int mr = MR(level), nr = NR(level);
        int oPad = RoundUp(channels, nr), kPad = RoundUp(k, mr);
        // Gᵀ (P, O) in NR-wide strips, zero past O: the GEMM's packing of a transposed B.
        GemmPacking.PackB(true, g, positions, 0, 0, positions, channels, nr, packed);
        float** x = stackalloc float*[8];
        for (int jr = 0; jr < oPad; jr += nr)
        {
            float* strip = packed + (long)jr * positions;
            for (int ir = 0; ir < kPad; ir += mr)
            {
                // Entries past K read the last one's row (valid memory); their sums land in rows that are dropped.
                for (int i = 0; i < mr; i++) x[i] = image + kOff[Math.Min(ir + i, k - 1)];
                Conv2dDirect.Tile(level, positions, strip, qOff, x, acc + (long)ir * oPad + jr, oPad);
            }
        }
    }

    /// <summary>dW (O, K) = acc (Kpad, Opad)ᵀ restricted to K rows and O columns.</summary>
    public static void StoreTransposed(SimdLevel level, float* acc, int k, int channels, float* dw)
    {
        int oPad = RoundUp(channels, NR(level));
        for (int o = 0; o < channels; o++)
            for (int kk = 0; kk < k; kk++) dw[(long)o * k + kk] = acc[(long)kk * oPad + o];
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
