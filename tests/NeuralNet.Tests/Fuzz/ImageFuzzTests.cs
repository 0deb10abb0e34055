using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Cli;
using NeuralNet.Tests.Data;
using SkiaSharp;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Fuzz;

/// <summary>
/// Mutated PNG, JPEG and BMP files through the decoder <c>nn predict</c> uses. Native decoding can take the process down
/// rather than throw, so the cases run in a child <c>nn predict --json</c>, a batch of files per process: it must exit 0
/// or 1 within 60 s and print, per file, a prediction or <c>{"file", "error"}</c> whose error names
/// the file. A crash (any other exit code, a signal) is a finding; its batch is rerun file by file to name the culprit.
/// A few hundred cases here; NN_FUZZ_CASES (and NN_FUZZ_SEED) run more.
/// </summary>
public sealed class ImageFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultCases = 300;
    private const int BatchSize = 50;
    private static readonly TimeSpan s_batchTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Mutated_pictures_get_a_prediction_or_an_error_naming_the_file_and_never_crash_nn_predict()
    {
        var (cases, seed) = Fuzzer.Settings(DefaultCases);
        string model = _dir["model.npz"];
        Checkpoint.Save(model, new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(4))), metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        byte[][] seeds = Seeds();
        var fields = seeds.Select(Fields).ToArray();

        var rng = new Rng(seed);
        var defects = new List<string>();
        int predicted = 0, refused = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The unmutated seeds go first: they must all be predicted.
        var batch = new List<(string File, string What)>();
        for (int c = 0; c < cases + seeds.Length; c++)
        {
            string what;
            byte[] input;
            int k = c < seeds.Length ? c : rng.NextInt(seeds.Length);
            if (c < seeds.Length) (input, what) = (seeds[c], $"seed {c}");
            else
            {
                (input, what) = Fuzzer.Mutate(seeds[k], fields[k], [], rng);
                what = $"seed {k} {what}";
            }
            string file = _dir[$"case-{c}{Path.GetExtension(s_names[k])}"];
            File.WriteAllBytes(file, input);
            batch.Add((file, $"case {c} ({what})"));
            if (batch.Count == BatchSize || c == cases + seeds.Length - 1)
            {
                var (p, r) = RunBatch(model, batch, defects);
                predicted += p;
                refused += r;
                foreach (var (f, _) in batch) File.Delete(f);
                batch.Clear();
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"images: {cases} cases + {seeds.Length} seeds (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {predicted} predicted, {refused} refused, {defects.Count} defects"));
        Assert.True(defects.Count == 0, string.Join("\n", defects.Take(20)));
        Assert.True(refused > 0, "no case was refused: the mutations do not reach the decoder");
        Assert.True(predicted >= seeds.Length, "the seeds were not all predicted");
    }

    private static readonly string[] s_names = ["a.png", "b.jpg", "c.bmp"];

    // The files of one process: the exit code, then one JSON line per file in order.
    private static (int Predicted, int Refused) RunBatch(string model, List<(string File, string What)> batch, List<string> defects)
    {
        var (code, stdout, stderr, timedOut) = Predict(model, batch.Select(b => b.File));
        if (timedOut || code is not (0 or 1))
        {
            // Rerun file by file to name the case that crashes (or hangs).
            foreach (var (file, what) in batch)
            {
                var (c1, _, e1, t1) = Predict(model, [file]);
                if (t1) defects.Add($"{what}: no answer within {s_batchTimeout.TotalSeconds} s");
                else if (c1 is not (0 or 1)) defects.Add($"{what}: nn predict exited with {c1}: {Last(e1)}");
            }
            if (defects.Count == 0) defects.Add($"a batch exited with {code} (timed out: {timedOut}) but no single file does: {Last(stderr)}");
            return (0, 0);
        }
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length != batch.Count)
        {
            defects.Add($"{batch.Count} files, {lines.Length} JSON lines (exit {code}): {Last(stderr)}");
            return (0, 0);
        }
        int predicted = 0, refused = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var line = doc.RootElement;
            var (file, what) = batch[i];
            if (line.GetProperty("file").GetString() != file) defects.Add($"{what}: line {i} is for {line.GetProperty("file")}");
            else if (line.TryGetProperty("prediction", out _)) predicted++;
            else if (line.TryGetProperty("error", out var error) && error.GetString()!.Contains(file, StringComparison.Ordinal)) refused++;
            else defects.Add($"{what}: neither a prediction nor an error naming the file: {lines[i]}");
        }
        return (predicted, refused);
    }

    private static (int Code, string Out, string Err, bool TimedOut) Predict(string model, IEnumerable<string> files)
    {
        using var run = new ResumeTests.Running(ResumeTests.Nn(["predict", "--model", model, "--json", "--threads", "1", .. files]));
        if (!run.Process.WaitForExit(s_batchTimeout))
        {
            run.Process.Kill(entireProcessTree: true);
            return (-1, run.Out, run.Err, true);
        }
        run.Process.WaitForExit();
        return (run.Process.ExitCode, run.Out, run.Err, false);
    }

    private static string Last(string text) => text.Length <= 400 ? text : text[^400..];

    // A small "7" as PNG, JPEG and a 24-bit BMP.
    private static byte[][] Seeds()
    {
        using var bitmap = Pictures.Draw(20, 16, SKColors.White, c => { using var pen = Pictures.Pen(SKColors.Black, 3); c.DrawLine(4, 3, 15, 3, pen); c.DrawLine(15, 3, 8, 14, pen); });
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return [png.ToArray(), jpeg.ToArray(), Pictures.Bmp(bitmap)];
    }

    // The fields that size a picture: PNG's IHDR width, height, depth and colour type; BMP's offsets, width, height and
    // bits per pixel; JPEG's SOF height, width and component count.
    private static IReadOnlyList<FuzzField> Fields(byte[] b)
    {
        if (b.Length > 24 && b[0] == 0x89) return [new(16, 4, true), new(20, 4, true), new(24, 1, false), new(25, 1, false)];
        if (b.Length > 30 && b[0] == 'B') return [new(2, 4, false), new(10, 4, false), new(14, 4, false), new(18, 4, false), new(22, 4, false), new(28, 2, false), new(34, 4, false)];
        var fields = new List<FuzzField>();
        for (int i = 0; i + 10 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] is 0xC0 or 0xC2 or 0xC4 or 0xDB or 0xDA)
                fields.AddRange([new(i + 2, 2, true), new(i + 5, 2, true), new(i + 7, 2, true), new(i + 9, 1, false)]);
        return fields;
    }
}
