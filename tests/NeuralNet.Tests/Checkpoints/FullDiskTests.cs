using System.Diagnostics;
using Xunit.Abstractions;
using NeuralNet.Checkpoints;
using NeuralNet.Tests.Cli;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>A checkpoint write that fails half way (a full disk): a clear error, the previous file intact, nothing partial left.</summary>
[Collection("Console")]
public sealed class FullDiskTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_write_that_fails_half_way_names_the_file_keeps_the_previous_one_and_leaves_no_temp_file()
    {
        string path = _dir["ckpt/model.bin"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            throw new IOException("No space left on device");
        }));
        Assert.Contains(path, e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Nn_train_on_a_full_disk_says_so_in_one_line_keeps_the_last_good_checkpoint_and_exits_1()
    {
        // A real full disk: a 2.5 MB tmpfs, room for best_model.npz (1.3 MB) but not also for last.npz (1.8 MB).
        string disk = _dir["disk"];
        Directory.CreateDirectory(disk);
        if (!Mount(disk))
        {
            output.WriteLine("skipped: mounting a tmpfs needs root (mount -t tmpfs)");
            return;
        }
        try
        {
            CliTests.WriteBars(_dir["bars/mnist"], train: 256, test: 64);
            var (code, _, err) = CliTests.Run("train", "--epochs", "2", "--data", _dir["bars"], "--threads", "1",
                "--output", Path.Combine(disk, "run"), "--quiet", "--no-figures");
            output.WriteLine(err);
            Assert.Equal(1, code);
            Assert.StartsWith("error: ", err.TrimStart());
            Assert.Contains("last.npz: not written", err);
            Assert.DoesNotContain("   at ", err);
            string checkpoints = Path.Combine(disk, "run", "checkpoints");
            Assert.Equal([Path.Combine(checkpoints, "best_model.npz")], Directory.GetFiles(checkpoints));
            Assert.NotNull(Checkpoint.Load<float>(Path.Combine(checkpoints, "best_model.npz")));
        }
        finally
        {
            Run("umount", disk);
        }
    }

    private static bool Mount(string folder) => Run("mount", "-t", "tmpfs", "-o", "size=2500k", "tmpfs", folder) == 0;

    private static int Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            return p.HasExited ? p.ExitCode : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
