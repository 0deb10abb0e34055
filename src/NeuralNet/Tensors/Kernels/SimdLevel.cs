using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>The vector instruction sets the kernels have code paths for, narrowest first.</summary>
public enum SimdLevel
{
    /// <summary>Plain scalar loops (portable; what runs where no vector path applies).</summary>
    Scalar = 0,

    /// <summary>256-bit vectors with FMA (AVX2 on x86).</summary>
    Vector256 = 1,

    /// <summary>512-bit vectors (AVX-512F on x86).</summary>
    Vector512 = 2,
}

/// <summary>
/// Which instruction set the kernels use. <see cref="Best"/> is the widest this CPU and runtime support;
/// <see cref="Active"/> starts there and can be lowered (never raised above <see cref="Best"/>) so the tests run
/// every path the machine has. Results are deterministic for a given level and thread count; different levels may
/// differ in the last bits (sums are grouped by vector width).
/// </summary>
public static class Simd
{
    private static SimdLevel s_active = Preferred(Detect());

    /// <summary>
    /// The widest level this process can run: Vector512 needs AVX-512F (off with <c>DOTNET_EnableAVX512=0</c>), Vector256
    /// needs AVX2 and FMA. On CPUs that slow their clock under 512-bit load the JIT reports
    /// <c>Vector512.IsHardwareAccelerated</c> false while the instructions still work; the kernels use them there too,
    /// because the GEMM micro-kernel, which dominates training, was measured faster with 512-bit registers on such a
    /// Xeon (twice the FMA throughput outweighs the lower clock). <see cref="JitPrefers512"/> reports the JIT's view.
    /// </summary>
    public static SimdLevel Best { get; } = Detect();

    /// <summary>
    /// The level the kernels use now. The default is <see cref="Best"/>, except on AMD processors up to Zen 4 (family
    /// 0x19), which run a 512-bit instruction as two 256-bit halves: there 512-bit code has no more arithmetic
    /// throughput, and on an EPYC (Zen 4) it measured the same as 256-bit code for the MLP and CNN training steps and
    /// slower for memory-bound and exp-based loops, so Vector256 is the default. This setter (the tools: <c>NN_MAX_ISA</c>)
    /// override the choice.
    /// </summary>
    public static SimdLevel Active
    {
        get => s_active;
        set
        {
            if (value > Best)
                throw new NotSupportedException($"Simd.Active: {value} is not supported here; the widest level this process can run is {Best}.");
            s_active = value;
        }
    }

    /// <summary>True when the 512-bit kernels run.</summary>
    public static bool Use512 => s_active == SimdLevel.Vector512;

    /// <summary>True when the 256-bit (or wider) kernels run.</summary>
    public static bool Use256 => s_active >= SimdLevel.Vector256;

    /// <summary>The JIT's own judgement (<c>Vector512.IsHardwareAccelerated</c>), printed by the benchmarks.</summary>
    public static bool JitPrefers512 => Vector512.IsHardwareAccelerated;

    /// <summary>Every level this process can run, narrowest first (the tests iterate over it).</summary>
    public static IReadOnlyList<SimdLevel> Supported { get; } = Enumerable.Range(0, (int)Detect() + 1).Select(i => (SimdLevel)i).ToArray();

    /// <summary>A short name of the instruction set, e.g. "AVX-512F" or "AVX2+FMA", for benchmark output.</summary>
    public static string Describe(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => "AVX-512F",
        SimdLevel.Vector256 => Fma.IsSupported ? "AVX2+FMA" : "256-bit vectors",
        _ => "scalar",
    };

    /// <summary>
    /// The level named <paramref name="name"/> — <c>scalar</c>, <c>avx2</c> (or <c>vector256</c>), <c>avx512</c> (or
    /// <c>vector512</c>), any case — capped at <see cref="Best"/>; null for another name. The tools read it from
    /// <c>NN_MAX_ISA</c> (named after oneDNN's <c>ONEDNN_MAX_CPU_ISA</c>), so a whole run can take any path.
    /// </summary>
    public static SimdLevel? Parse(string name)
    {
        SimdLevel? cap = name.Trim().ToLowerInvariant() switch
        {
            "scalar" => SimdLevel.Scalar,
            "avx2" or "vector256" => SimdLevel.Vector256,
            "avx512" or "vector512" => SimdLevel.Vector512,
            _ => null,
        };
        return cap is { } c ? (c < Best ? c : Best) : null;
    }

    /// <summary>Vector256 instead of Vector512 on AMD family 0x19 and older (Zen 4 splits 512-bit operations in two).</summary>
    private static SimdLevel Preferred(SimdLevel best)
    {
        if (best != SimdLevel.Vector512 || !X86Base.IsSupported) return best;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        bool amd = ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163; // "AuthenticAMD"
        if (!amd) return best;
        int eax = X86Base.CpuId(1, 0).Eax;
        int family = ((eax >> 8) & 0xF) + (((eax >> 8) & 0xF) == 0xF ? (eax >> 20) & 0xFF : 0);
        return family <= 0x19 ? SimdLevel.Vector256 : best;
    }

    /// <summary>The level the kernels start at on this machine before any override (see <see cref="Active"/>).</summary>
    public static SimdLevel Default { get; } = Preferred(Detect());

    private static SimdLevel Detect()
    {
        if (Avx512F.IsSupported) return SimdLevel.Vector512;
        if (Vector256.IsHardwareAccelerated && (Fma.IsSupported || !X86Base.IsSupported)) return SimdLevel.Vector256;
        return SimdLevel.Scalar;
    }
}
