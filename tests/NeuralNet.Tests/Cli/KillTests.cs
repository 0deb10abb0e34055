using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using NeuralNet.Checkpoints;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Cli;

/// <summary>
/// <c>nn train</c> killed with SIGKILL at seeded random moments, some inside a checkpoint write (slowed by the CLI's
/// test-only <c>NN_TEST_CHECKPOINT_DELAY_MS</c>): nothing partial is left under a final name, and <c>--resume</c> ends bit for bit
/// where an uninterrupted run does.
/// </summary>
[Collection("Console")]
public sealed partial class KillTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const int Trials = 20;
    private const int Epochs = 6;

    /// <summary>Starts nn (see <see cref="ResumeTests.Nn"/>) with <paramref name="environment"/> added.</summary>
    private static ResumeTests.Running Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = ResumeTests.Nn(args);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return new ResumeTests.Running(psi);
    }

    private static void Finish(ResumeTests.Running run, string what)
    {
        int code = run.Finish();
        Assert.True(code == 0, $"{what} exited with {code}: {run.Err}");
    }

    private string[] TrainArgs(string outputFolder) =>
        ["train", "--data", _dir["data"], "--epochs", $"{Epochs}", "--hidden", "128,64", "--batch-size", "32", "--threads", "1",
         "--output", outputFolder, "--quiet", "--no-figures"];

    // Only the final names, or a temp file AtomicFile.Write left when killed before its rename.
    [GeneratedRegex(@"^(best_model|last)\.npz(\.tmp-[0-9a-f]{12})?$")]
    private static partial Regex CheckpointName();

    [Fact]
    public void Nn_train_killed_at_random_moments_leaves_only_whole_checkpoints_and_resumes_bit_for_bit()
    {
        CliTests.WriteBars(_dir["data/mnist"], train: 6144, test: 64);
        string reference = _dir["reference"];
        var clock = Stopwatch.StartNew();
        using (var p = Start(null, TrainArgs(reference))) Finish(p, "the uninterrupted run");
        double seconds = clock.Elapsed.TotalSeconds;
        byte[] referenceBest = File.ReadAllBytes(Path.Combine(reference, "checkpoints", "best_model.npz"));
        string[] referenceHistory = File.ReadAllLines(Path.Combine(reference, "history.csv"));
        Assert.Equal(Epochs + 1, referenceHistory.Length);

        var rng = new Rng(20250611);
        int inside = 0, resumed = 0, fresh = 0, ended = 0;
        for (int trial = 0; trial < Trials; trial++)
        {
            string run = _dir[$"trial{trial}"], checkpoints = Path.Combine(run, "checkpoints");
            int delayMs = 30 + rng.NextInt(51);
            // Up to two checkpoint writes an epoch, each slowed by the delay; kill within the run's expected span, past the start-up.
            double expected = seconds + 2 * Epochs * delayMs / 1000.0;
            double killAt = rng.NextDouble(0.3, 0.95) * expected;
            using (var p = Start(new Dictionary<string, string> { ["NN_TEST_CHECKPOINT_DELAY_MS"] = $"{delayMs}" }, TrainArgs(run)))
            {
                if (p.Process.WaitForExit(TimeSpan.FromSeconds(killAt)))
                {
                    // A timing accident (a loaded machine makes start-up slower or faster), not a failure: resumed below all the same.
                    Finish(p, $"trial {trial}: the run that ended before its kill at {killAt:F2} s");
                    ended++;
                }
                else
                {
                    p.Process.Kill(entireProcessTree: true);
                    p.Process.WaitForExit();
                }
            }

            string[] left = Directory.Exists(checkpoints) ? Directory.GetFiles(checkpoints).Select(f => Path.GetFileName(f)!).ToArray() : [];
            foreach (string name in left) Assert.True(CheckpointName().IsMatch(name), $"trial {trial}: unexpected file {name}");
            bool inWrite = left.Any(n => n.Contains(".tmp-", StringComparison.Ordinal));
            if (inWrite) inside++;
            output.WriteLine($"trial {trial,2}: delay {delayMs} ms, killed at {killAt:F2} s; left {(left.Length == 0 ? "nothing" : string.Join(", ", left.Order()))}");
            // Every file under a final name is whole: a checkpoint that loads (the checksums of each entry checked).
            string best = Path.Combine(checkpoints, "best_model.npz"), last = Path.Combine(checkpoints, "last.npz");
            if (File.Exists(best)) Checkpoint.Load<float>(best);
            if (!File.Exists(last))
            {
                // Killed before the first last.npz (best_model.npz is written first, so it may be there): a fresh run in the
                // same folder is all there is to do, and what it leaves behind does not change it.
                using (var p = Start(null, TrainArgs(run))) Finish(p, $"trial {trial}: the fresh run");
                Assert.True(referenceBest.AsSpan().SequenceEqual(File.ReadAllBytes(best)), $"trial {trial}: the fresh run's best_model.npz differs from the uninterrupted run's");
                fresh++;
                continue;
            }
            Checkpoint.Load<float>(last);
            int done = Checkpoint.ReadTrainingState(last)!.NextEpoch;
            Assert.InRange(done, 1, Epochs);

            using (var p = Start(null, "train", "--resume", run, "--quiet", "--no-figures")) Finish(p, $"trial {trial}: nn train --resume");
            Assert.True(referenceBest.AsSpan().SequenceEqual(File.ReadAllBytes(best)), $"trial {trial}: best_model.npz differs from the uninterrupted run's (killed after {done} epochs)");
            Assert.Equal(referenceHistory.Length, File.ReadAllLines(Path.Combine(run, "history.csv")).Length);
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
            Assert.Equal(Epochs, metrics.RootElement.GetProperty("epochs").GetInt32());
            resumed++;
        }
        output.WriteLine($"{Trials} trials: {inside} killed inside a checkpoint write, {resumed} resumed bit for bit, {fresh} fresh (rerun bit for bit), {ended} ended before the kill " +
                         $"(uninterrupted run {seconds:F2} s, whole test {clock.Elapsed.TotalSeconds:F1} s)");
        Assert.Equal(Trials, resumed + fresh);
        Assert.True(ended <= Trials / 4, $"{ended} of {Trials} runs ended before their kill");
        Assert.True(inside >= 3, $"only {inside} of {Trials} kills landed inside a checkpoint write");
        Assert.True(resumed >= Trials / 4, $"only {resumed} of {Trials} runs had an epoch saved when killed");
    }
}
