using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Cli;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Serve;

/// <summary><c>nn serve</c> as a separate process: its first line on stdout, Ctrl+C, and its errors.</summary>
[Collection("Console")]
public sealed partial class ServeCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Model()
    {
        string path = _dir["m.npz"];
        Checkpoint.Save(path, new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(2))), metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        return path;
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nn.dll"));
        info.ArgumentList.Add("serve");
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    private const int SigInt = 2;

    [Fact]
    public async Task The_first_line_says_where_it_listens_and_ctrl_c_stops_it_cleanly()
    {
        using var nn = Start("--model", Model(), "--port", "0", "--instances", "1");
        try
        {
            string? first = await nn.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var match = ListeningLine().Match(first ?? "");
            Assert.True(match.Success, $"the first line is '{first}'; stderr: {(nn.HasExited ? await nn.StandardError.ReadToEndAsync() : "")}");
            using var client = new HttpClient { BaseAddress = new Uri(match.Groups[1].Value) };
            Assert.Contains("\"inputShape\":[784]", await client.GetStringAsync("api/model"));

            Assert.Equal(0, Kill(nn.Id, SigInt));
            await nn.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(0, nn.ExitCode);
            Assert.Contains("stopped", await nn.StandardError.ReadToEndAsync());
        }
        finally
        {
            if (!nn.HasExited) nn.Kill();
        }
    }

    [GeneratedRegex(@"^Listening on (http://127\.0\.0\.1:[1-9][0-9]*/)$")]
    private static partial Regex ListeningLine();

    [Theory]
    [InlineData("--host", "example.org", "--host must be an IP address")]
    [InlineData("--port", "70000", "--port must be in 0…65535, got 70000")]
    [InlineData("--instances", "0", "at least one model instance, got 0")]
    public void Bad_options_are_named_on_stderr(string option, string value, string message)
    {
        var (code, stdout, err) = CliTests.Run("serve", "--model", Model(), option, value);
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains(message, err);
    }

    [Fact]
    public void A_missing_model_is_named_on_stderr()
    {
        var (code, _, err) = CliTests.Run("serve", "--model", _dir["none.npz"]);
        Assert.Equal(1, code);
        Assert.Contains($"model file not found: {_dir["none.npz"]}", err);
    }
}
