using System.Text.RegularExpressions;

namespace NeuralNet.Tests.ArchitectureRules;

/// <summary>
/// The model code (layers, activations, losses, optimizers) reaches the kernels only through <c>TensorOps</c>: a scan
/// of its source files for intrinsics, the kernels' namespace and types, TensorPrimitives and the thread pool.
/// Comments are scanned too, so a <c>cref</c> to a kernel cannot slip through.
/// </summary>
public class KernelDoorTests
{
    private static readonly string[] s_modelFolders = ["Layers", "Activations", "Losses", "Optim"];

    /// <summary>What model code must not name, with the reason the test prints.</summary>
    private static readonly (Regex Pattern, string What)[] s_forbidden =
    [
        (new Regex(@"System\.Runtime\.Intrinsics", RegexOptions.Compiled), "hardware intrinsics"),
        (new Regex(@"NeuralNet\.Tensors\.Kernels", RegexOptions.Compiled), "the kernels' namespace"),
        (new Regex(@"\bTensorPrimitives\b", RegexOptions.Compiled), "TensorPrimitives"),
        (new Regex(@"\bVector(64|128|256|512)\b", RegexOptions.Compiled), "SIMD vectors"),
        (new Regex(@"\bVector\s*<|\bVector\.", RegexOptions.Compiled), "System.Numerics.Vector"),
        (new Regex(@"\bParallelism\b", RegexOptions.Compiled), "the kernels' thread pool"),
        (new Regex(@"\b(Gemm|GemmReference|Im2Col|RowOps|Elementwise|ElementwiseDriver|UpdateDriver|OptimizerKernels|BatchNormKernels|PoolKernels|PlaneBlocks|Simd)\b",
            RegexOptions.Compiled), "a kernel type"),
    ];

    /// <summary>Every forbidden use in <paramref name="source"/>, as (1-based line, what, the line's text).</summary>
    internal static IReadOnlyList<(int Line, string What, string Text)> Scan(string source)
    {
        var found = new List<(int, string, string)>();
        string[] lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (var (pattern, what) in s_forbidden)
            {
                if (pattern.IsMatch(lines[i])) found.Add((i + 1, what, lines[i].Trim()));
            }
        }
        return found;
    }

    /// <summary>The folder holding NeuralNet.sln, found by walking up from the test binaries.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NeuralNet.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No NeuralNet.sln above {AppContext.BaseDirectory}.");
    }

    private static IEnumerable<string> ModelSources(string root) =>
        s_modelFolders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(root, "src", "NeuralNet", f), "*.cs", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void Model_code_calls_kernels_only_through_TensorOps()
    {
        string root = RepositoryRoot();
        var violations = new List<string>();
        foreach (string file in ModelSources(root))
        {
            foreach (var (line, what, text) in Scan(File.ReadAllText(file)))
                violations.Add($"{Path.GetRelativePath(root, file)}:{line}: {what}: {text}");
        }
        Assert.True(violations.Count == 0,
            "Layers, activations, losses and optimizers must call TensorOps, not the kernels:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_scan_covers_every_model_folder()
    {
        // Guards the test above against a root or folder that silently matches no files.
        string root = RepositoryRoot();
        foreach (string folder in s_modelFolders)
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(root, "src", "NeuralNet", folder), "*.cs", SearchOption.AllDirectories));
        Assert.Contains(ModelSources(root), f => f.EndsWith("Linear.cs", StringComparison.Ordinal));
        Assert.Contains(ModelSources(root), f => f.EndsWith("Adam.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void No_global_using_opens_the_kernels_to_the_whole_library()
    {
        // A global using elsewhere would let model code name kernel types without any of the tokens above.
        string root = RepositoryRoot();
        string library = Path.Combine(root, "src", "NeuralNet");
        var global = new Regex(@"global\s+using[^;]*Kernels");
        foreach (string file in Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
            Assert.False(global.IsMatch(File.ReadAllText(file)), $"{Path.GetRelativePath(root, file)} has a global using of the kernels.");
        Assert.DoesNotContain("Tensors.Kernels", File.ReadAllText(Path.Combine(library, "NeuralNet.csproj")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("using System.Runtime.Intrinsics;", "hardware intrinsics")]
    [InlineData("using NeuralNet.Tensors.Kernels;", "the kernels' namespace")]
    [InlineData("        NeuralNet.Tensors.Kernels.Gemm.Multiply(false, true, n, o, i, T.One, x, i, w, i, T.Zero, y, o);", "the kernels' namespace")]
    [InlineData("        TensorPrimitives.Add(row, v, row);", "TensorPrimitives")]
    [InlineData("using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;", "TensorPrimitives")]
    [InlineData("        var th = Vector256.Create(value[i]);", "SIMD vectors")]
    [InlineData("        Vector512<float> acc = default;", "SIMD vectors")]
    [InlineData("        if (Vector128.IsHardwareAccelerated) { }", "SIMD vectors")]
    [InlineData("        var v = new Vector<float>(span);", "System.Numerics.Vector")]
    [InlineData("        Parallelism.Run(_job, parts);", "the kernels' thread pool")]
    [InlineData("/// <summary>Runs on <see cref=\"Parallelism\"/>.</summary>", "the kernels' thread pool")]
    [InlineData("        RowOps.AccumulateColumnSums<T>(dy, db);", "a kernel type")]
    [InlineData("        Im2Col.Unfold(x, c, h, w, k, s, p, cols);", "a kernel type")]
    [InlineData("        if (Simd.Use512) { }", "a kernel type")]
    public void The_scanner_flags_a_direct_use(string line, string what)
    {
        string source = "namespace NeuralNet.Layers;\n\npublic sealed class Fake\n{\n" + line + "\n}\n";
        var found = Scan(source);
        Assert.Contains(found, f => f.Line == 5 && f.What == what);
    }

    [Fact]
    public void The_scanner_passes_door_calls_and_names_the_line()
    {
        const string clean = """
            using NeuralNet.Tensors;

            // dW += dyᵀ·x
            TensorOps.MatMul(gradOutput, x, Weight.Grad, transposeA: true, accumulate: true);
            TensorOps.AdamStep(value, grad, m, v, LearningRate, Beta1, Beta2, Eps, WeightDecay, false, StepCount);
            var vector = Bias.Value; // "vector" in lower case is prose
            """;
        Assert.Empty(Scan(clean));
        var found = Scan(clean + "\nGemm.Multiply(false, false, m, n, k, T.One, a, k, b, n, T.Zero, c, n);");
        Assert.Equal(7, Assert.Single(found).Line);
    }
}
