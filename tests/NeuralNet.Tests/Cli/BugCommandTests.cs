using System.Text.Json;
using NeuralNet.GradCheck.Bugs;
using NeuralNet.Tests.Data;
using NeuralNet.Tests.GradCheck;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn gradcheck --bug</c> and <c>nn train --bug</c>: the lists, the errors, the table and a short training run.</summary>
[Collection("Console")]
public sealed class BugCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    [Theory]
    [InlineData("gradcheck")]
    [InlineData("train")]
    public void Bug_list_lists_every_bug_with_its_layer(string command)
    {
        var (code, stdout, err) = Run(command, "--bug", "list");
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(BackwardBug.All.Count, lines.Length);
        foreach (var b in BackwardBug.All) Assert.Contains(lines, l => l.StartsWith(b.Name + " ", StringComparison.Ordinal) && l.Contains(b.Layer));
    }

    [Theory]
    [InlineData("gradcheck")]
    [InlineData("train")]
    public void An_unknown_bug_is_a_one_line_error_listing_the_known_ones(string command)
    {
        var (code, stdout, err) = Run(command, "--bug", "no-such-bug");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: unknown bug 'no-such-bug'", line);
        foreach (var b in BackwardBug.All) Assert.Contains(b.Name, line);
    }

    [Fact]
    public void Control_without_a_bug_is_an_error()
    {
        var (code, _, err) = Run("train", "--control");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --control needs --bug", err.TrimStart());
    }

    [Theory]
    [MemberData(nameof(BackwardBugTests.Bugs), MemberType = typeof(BackwardBugTests))]
    public void Gradcheck_with_a_bug_fails_the_rows_of_its_layer_and_says_why(string name)
    {
        var bug = BackwardBug.Find(name)!;
        var (code, stdout, err) = Run("gradcheck", "--bug", name);
        Assert.True(code == 0, err); // 0: the check caught the bug
        var failing = stdout.Split('\n').Where(l => l.StartsWith('|') && l.Contains("| FAIL |")).ToList();
        Assert.NotEmpty(failing);
        Assert.All(failing, l => Assert.Contains($"[bug: {name}]", l));
        // Rows without the bug's layer are the plain table's rows, and pass.
        Assert.Contains("| Tanh() | input | 42 |", stdout);
        Assert.DoesNotContain(stdout.Split('\n'), l => l.StartsWith("| Tanh()") && l.Contains("FAIL"));
        Assert.Contains($"Why: {bug.Symptom}.", stdout);
    }

    [Fact]
    public void Train_with_a_bug_runs_a_short_experiment_and_its_control_run_keeps_no_checkpoint_either()
    {
        CliTests.WriteBars(_dir["data/mnist"], train: 300, test: 100);
        foreach (var (name, control) in new[] { (BackwardBug.BatchNormConstantStatistics, false), (BackwardBug.SoftmaxDiagonal, false), (BackwardBug.SoftmaxDiagonal, true) })
        {
            string output = _dir[$"{name}{(control ? "-control" : "")}"];
            string[] args = ["train", "--bug", name, "--epochs", "1", "--hidden", "16", "--batch-size", "32", "--data", _dir["data"], "--threads", "1", "--output", output, "--no-figures"];
            var (code, stdout, err) = Run(control ? [.. args, "--control"] : args);
            Assert.True(code == 0, err);
            Assert.Contains(control ? $"control run for --bug {name}" : $"bug {name} in every", stdout);
            Assert.False(Directory.Exists(Path.Combine(output, "checkpoints")));
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
            var root = metrics.RootElement;
            Assert.Equal(name, root.GetProperty("bug").GetString());
            Assert.Equal(control, root.GetProperty("control").GetBoolean());
            Assert.Equal(1, root.GetProperty("epoch_seconds").GetArrayLength());
            double accuracy = root.GetProperty("test_accuracy").GetDouble();
            Assert.InRange(accuracy, 0, 1);
        }
    }

    [Fact]
    public void Train_with_the_weight_from_output_bug_needs_a_square_layer()
    {
        CliTests.WriteBars(_dir["data/mnist"], train: 40, test: 20);
        var (code, _, err) = Run("train", "--bug", BackwardBug.WeightGradientFromOutput, "--hidden", "16,8", "--data", _dir["data"], "--threads", "1", "--output", _dir["w"], "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("needs a square Linear layer", err);
    }
}
