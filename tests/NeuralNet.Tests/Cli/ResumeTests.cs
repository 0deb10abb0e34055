using System.Diagnostics;
using System.Text;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn train --resume</c>: a real <c>nn</c> process killed mid-run and resumed, and the options it refuses.</summary>
[Collection("Console")]
public sealed class ResumeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The nn the tests build against, run by the same dotnet host as the tests.</summary>
    internal static ProcessStartInfo Nn(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "nn.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references the CLI project, which puts it there");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>A started process whose output is collected as it comes (so a full pipe never blocks it).</summary>
    internal sealed class Running : IDisposable
    {
        private readonly StringBuilder _out = new(), _err = new();

        public Running(ProcessStartInfo psi)
        {
            Process = new Process { StartInfo = psi };
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Out { get { lock (_out) return _out.ToString(); } }

        public string Err { get { lock (_err) return _err.ToString(); } }

        public int Finish(int timeoutSeconds = 120)
        {
            Assert.True(Process.WaitForExit(timeoutSeconds * 1000), $"nn did not finish in {timeoutSeconds} s: {Out}{Err}");
            Process.WaitForExit(); // drains the output events
            return Process.ExitCode;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    /// <summary>The small CNN run both the straight and the killed run do: BatchNorm, Dropout, ±1 pixel shifts, cosine schedule.</summary>
    private string[] TrainArgs(string outputFolder) =>
        ["train", "--model", "cnn", "--data", _dir["data"], "--epochs", "6", "--batch-size", "64", "--threads", "1", "--output", outputFolder, "--no-figures"];

    [Fact]
    public void A_killed_nn_train_resumed_with_resume_ends_with_the_weights_of_an_uninterrupted_run_bit_for_bit()
    {
        CliTests.WriteBars(_dir["data/mnist"], train: 640, test: 100);
        string straight = _dir["straight"], cut = _dir["cut"];
        using (var run = new Running(Nn(TrainArgs(straight))))
            Assert.True(run.Finish() == 0, run.Err);

        // The killed run: once two epochs are saved, wait a seeded random share of up to two epochs' time and kill it.
        string last = Path.Combine(cut, "checkpoints", "last.npz");
        double delay;
        string killedOut;
        using (var run = new Running(Nn(TrainArgs(cut))))
        {
            DateTime WhenChanged(DateTime previous)
            {
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    if (File.Exists(last) && File.GetLastWriteTimeUtc(last) is var t && t != previous) return t;
                    Assert.False(run.Process.HasExited, $"nn exited before it was killed: {run.Out}{run.Err}");
                    Thread.Sleep(5);
                }
                throw new TimeoutException($"{last} did not change within 60 s: {run.Out}{run.Err}");
            }
            var firstEpoch = WhenChanged(DateTime.MinValue);
            var watch = Stopwatch.StartNew();
            WhenChanged(firstEpoch);
            double epochSeconds = watch.Elapsed.TotalSeconds;
            delay = new Rng(20240607).NextDouble() * 2 * epochSeconds;
            Thread.Sleep(TimeSpan.FromSeconds(delay));
            Assert.False(run.Process.HasExited, $"the run ended before the kill: {run.Out}");
            run.Process.Kill(entireProcessTree: true);
            run.Process.WaitForExit();
            killedOut = run.Out;
        }
        int done = Checkpoint.ReadTrainingState(last)!.NextEpoch;
        Assert.InRange(done, 2, 5);
        Assert.False(File.Exists(Path.Combine(cut, "metrics.json")), "the killed run got as far as its metrics");

        using (var resumed = new Running(Nn("train", "--resume", cut, "--no-figures")))
        {
            Assert.True(resumed.Finish() == 0, resumed.Err);
            output.WriteLine($"killed {delay:F2} s after epoch 2 was saved; last.npz had {done} of 6 epochs");
            output.WriteLine("--- killed run:\n" + killedOut);
            output.WriteLine("--- nn train --resume:\n" + resumed.Out);
            Assert.Contains($"resuming {last}: {done} of 6 epochs done", resumed.Out);
        }

        // The final weights, file for file, and every array of the last state (weights, best weights, optimizer moments).
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "checkpoints", "best_model.npz")), File.ReadAllBytes(Path.Combine(cut, "checkpoints", "best_model.npz")));
        using (var a = new NpzReader(Path.Combine(straight, "checkpoints", "last.npz")))
        using (var b = new NpzReader(last))
        {
            Assert.Equal(a.Names, b.Names);
            Assert.Contains("optimizer.exp_avg.0", a.Names);
            foreach (string name in a.Names)
                Assert.True(a.Get<float>(name).ToArray().AsSpan().SequenceEqual(b.Get<float>(name).ToArray()), $"last.npz: {name} differs");
        }
        // The history covers all six epochs, equal but for the seconds each took.
        static string[] WithoutSeconds(string path) => File.ReadAllLines(path).Select(l => l[..l.LastIndexOf(',')]).ToArray();
        Assert.Equal(7, File.ReadAllLines(Path.Combine(cut, "history.csv")).Length);
        Assert.Equal(WithoutSeconds(Path.Combine(straight, "history.csv")), WithoutSeconds(Path.Combine(cut, "history.csv")));
        using var m1 = JsonDocument.Parse(File.ReadAllText(Path.Combine(straight, "metrics.json")));
        using var m2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(cut, "metrics.json")));
        foreach (string key in new[] { "test_accuracy", "test_loss", "best_epoch", "epochs" })
            Assert.Equal(m1.RootElement.GetProperty(key).GetRawText(), m2.RootElement.GetProperty(key).GetRawText());
    }

    [Fact]
    public void Resume_refuses_options_that_differ_from_the_saved_ones_naming_each_and_accepts_equal_ones()
    {
        CliTests.WriteBars(_dir["data/mnist"], train: 200, test: 50);
        string run = _dir["run"];
        var (code, _, err) = CliTests.Run("train", "--data", _dir["data"], "--epochs", "3", "--hidden", "16", "--batch-size", "32", "--threads", "1",
            "--output", run, "--quiet", "--no-figures", "--patience", "0");
        Assert.True(code == 0, err);

        (code, _, err) = CliTests.Run("train", "--resume", run, "--epochs", "4", "--seed", "7", "--batch-size", "32", "--hidden", "16,8", "--quiet");
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err);
        Assert.Contains("--epochs 4 (saved: 3)", err);
        Assert.Contains("--seed 7 (saved: 42)", err);
        Assert.Contains("--hidden 16,8 (saved: 16)", err);
        Assert.DoesNotContain("--batch-size", err); // equal to the saved value

        (code, _, err) = CliTests.Run("train", "--resume", run, "--model", "cnn", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("--model cnn (saved: mlp)", err);

        // Equal options (and the defaults of a default-less --lr) are fine: the finished run is evaluated and written again.
        (code, _, err) = CliTests.Run("train", "--resume", run, "--epochs", "3", "--lr", "0.001", "--quiet", "--no-figures");
        Assert.True(code == 0, err);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "history.csv")).Length);

        (code, _, err) = CliTests.Run("train", "--resume", _dir["nowhere"], "--quiet");
        Assert.Equal(1, code);
        Assert.Contains("nowhere", err);
        Directory.CreateDirectory(_dir["empty"]);
        (code, _, err) = CliTests.Run("train", "--resume", _dir["empty"], "--quiet");
        Assert.Equal(1, code);
        Assert.Contains("last.npz not found", err);
    }
}
