using System.Text.RegularExpressions;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.ArchitectureRules;

/// <summary>
/// The core library computes and reads files it is given; fetching data sets (HTTP, registry fallbacks, the cache
/// folder and its environment variables) and starting processes belong to the nn tool.
/// </summary>
public class CoreLibraryTests
{
    [Fact]
    public void The_core_library_references_no_networking_or_processes()
    {
        var references = typeof(Tensor<float>).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain(references, r => r.StartsWith("System.Net", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r == "System.Diagnostics.Process");
    }

    [Fact]
    public void The_core_librarys_sources_fetch_nothing_and_read_no_environment_variables()
    {
        string core = Path.Combine(KernelDoorTests.RepositoryRoot(), "src", "NeuralNet");
        var forbidden = new Regex(@"\bHttpClient\b|\bProcess\.Start\b|\bGetEnvironmentVariables?\(|\bDataFetcher\b");
        var hits = Directory.GetFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => forbidden.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(core, x.f)}:{x.i + 1}: {x.line.Trim()}").ToArray();
        Assert.True(hits.Length == 0, string.Join("\n", hits));
    }
}
