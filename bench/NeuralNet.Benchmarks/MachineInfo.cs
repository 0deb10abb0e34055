using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Benchmarks;

/// <summary>
/// What a benchmark figure depends on: the CPU model, the logical core count, the instruction set the kernels use now
/// (<see cref="Simd.Active"/>), the widest one they could use (<see cref="Simd.Best"/>), the JIT's view of 512-bit
/// vectors and the .NET runtime. Every mode prints it first, so a figure never travels without its machine.
/// </summary>
public static class MachineInfo
{
    /// <summary>
    /// "model name" from /proc/cpuinfo (Linux) with its "cpu family" and "model" numbers, which tell CPU generations
    /// apart where a hypervisor shows a generic name (family 25 model 17 is Zen 4, "AMD EPYC" alone is not);
    /// else the architecture and OS the runtime reports.
    /// </summary>
    public static string CpuModel { get; } = ReadCpuModel();

    /// <summary>Logical processors this process may use.</summary>
    public static int LogicalCores => Environment.ProcessorCount;

    /// <summary>The .NET runtime, e.g. ".NET 10.0.0".</summary>
    public static string Runtime => RuntimeInformation.FrameworkDescription;

    /// <summary>One JSON object: {"cpu":…,"logical_cores":…,"isa":…,"simd_active":…,"simd_best":…,"jit_prefers_512":…,"dotnet":…}.</summary>
    public static string Json() => JsonSerializer.Serialize(new
    {
        cpu = CpuModel,
        logical_cores = LogicalCores,
        isa = Simd.Describe(Simd.Active),
        simd_active = Simd.Active.ToString(),
        simd_best = Simd.Best.ToString(),
        best_isa = Simd.Describe(Simd.Best),
        jit_prefers_512 = Simd.JitPrefers512,
        dotnet = Runtime,
    }, JsonText);

    /// <summary>JSON options that keep "+" and non-ASCII names readable (the output is never embedded in HTML).</summary>
    public static JsonSerializerOptions JsonText { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The same facts as one human-readable line.</summary>
    public static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"machine: {CpuModel}, {LogicalCores} logical cores; kernels use {Simd.Describe(Simd.Active)} ({Simd.Active}; best here {Simd.Best}, " +
        $"JIT prefers 512-bit: {(Simd.JitPrefers512 ? "yes" : "no")}); {Runtime}");

    /// <summary>Sets <see cref="Simd.Active"/> from a command-line name: scalar, avx2 (Vector256) or avx512 (Vector512).</summary>
    public static void SetIsa(string name)
    {
        var level = name switch
        {
            "scalar" => SimdLevel.Scalar,
            "avx2" => SimdLevel.Vector256,
            "avx512" => SimdLevel.Vector512,
            _ => throw new ArgumentException($"--isa '{name}': expected scalar, avx2 or avx512"),
        };
        if (level > Simd.Best)
            throw new ArgumentException($"--isa {name}: this CPU and runtime support at most {Simd.Describe(Simd.Best)} ({Simd.Best})");
        Simd.Active = level;
    }

    private static string ReadCpuModel()
    {
        string? name = null, family = null, model = null;
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':');
                    if (colon < 0) continue;
                    string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                    if (key == "model name") name ??= value;
                    else if (key == "cpu family") family ??= value;
                    else if (key == "model") model ??= value;
                    if (name is not null && family is not null && model is not null) break;
                }
            }
        }
        catch (IOException)
        {
            // fall through to what the runtime knows
        }
        catch (UnauthorizedAccessException)
        {
        }
        if (name is null) return $"{RuntimeInformation.ProcessArchitecture} CPU ({RuntimeInformation.OSDescription})";
        return family is null || model is null ? name : $"{name} (family {family}, model {model})";
    }
}
