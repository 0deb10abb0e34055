using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using NeuralNet.Tests.Serve;
using SkiaSharp;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Fuzz;

/// <summary>
/// Mutated POST /api/predict bodies against nn serve's app in this process (see <see cref="Fuzzer.Mutate"/>): JSON pixel
/// bodies and whole multipart uploads (boundary, part headers and picture alike). Every case must be answered 200, or
/// 4xx with a problem object (status, title, detail); never 5xx, a dropped connection or no answer within 30 s.
/// A few thousand cases here; NN_FUZZ_CASES (and NN_FUZZ_SEED) run more.
/// </summary>
public sealed class ServeBodyFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultCases = 3000;
    private const string Boundary = "fuzz-boundary-7";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Mutated_predict_bodies_get_200_or_a_4xx_problem_object_and_never_a_5xx_or_a_dropped_connection()
    {
        var (cases, seed) = Fuzzer.Settings(DefaultCases);
        string model = _dir["mlp.npz"];
        Checkpoint.Save(model, new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(4))), metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        await using var server = await RunningServer.StartAsync(model);

        var rng = new Rng(seed);
        byte[][] seeds = [PixelsBody(rng), Encoding.UTF8.GetBytes("{\"pixels\":[" + string.Join(",", Enumerable.Repeat("0", 783)) + ",1]}"), Upload()];
        (string Find, string[] Replacements)[] tokens =
        [
            ("\"pixels\"", ["\"pixel\"", "\"pixels\":[],\"pixels\"", "\"image\"", "1"]),
            ("[", ["{", "[[", "\"", ""]),
            ("name=\"image\"", ["name=\"file\"", "name=\"image\"; name=\"image\"", "name=", ""]),
            ("Content-Type: image/png", ["Content-Type: text/plain", "Content-Type:", "Content-Length: 99999999"]),
            ("--" + Boundary, ["--" + Boundary + "--", "--other", "-- " + Boundary]),
        ];
        int ok = 0, refused = 0;
        var defects = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int c = 0; c < cases + seeds.Length; c++)
        {
            int k = c < seeds.Length ? c : rng.NextInt(seeds.Length);
            var (body, what) = c < seeds.Length ? (seeds[k], "unmutated") : Fuzzer.Mutate(seeds[k], [], tokens, rng);
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = k == 2
                ? MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}")
                : new MediaTypeHeaderValue("application/json");
            string? defect;
            try
            {
                using var response = await server.Client.PostAsync("api/predict", content);
                int status = (int)response.StatusCode;
                string text = await response.Content.ReadAsStringAsync();
                defect = status switch
                {
                    200 => null,
                    >= 400 and < 500 => Problem(response, text, status),
                    _ => $"status {status}: {Short(text)}",
                };
                if (defect is null && status == 200) ok++;
                else if (defect is null) refused++;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                defect = $"{e.GetType().Name}: {e.Message}";
            }
            if (defect is not null) defects.Add($"case {c} (seed {k} {what}): {defect}");
            if (c < seeds.Length) Assert.True(defect is null && ok == c + 1, $"seed {c} is not answered 200: {defect}");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"serve bodies: {cases} cases + {seeds.Length} seeds (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {ok} answered 200, {refused} refused with 4xx, {defects.Count} defects"));
        Assert.True(defects.Count == 0, string.Join("\n", defects.Take(20)));
        Assert.True(refused > 0, "no case was refused: the mutations do not reach the server's checks");
    }

    // A 4xx must carry a problem object with its status, a title and a detail.
    private static string? Problem(HttpResponseMessage response, string text, int status)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") return $"status {status} without a problem object: {Short(text)}";
        try
        {
            var problem = JsonDocument.Parse(text).RootElement;
            if (problem.GetProperty("status").GetInt32() != status) return $"status {status}, the problem says {problem.GetProperty("status")}";
            if (string.IsNullOrEmpty(problem.GetProperty("title").GetString()) || string.IsNullOrEmpty(problem.GetProperty("detail").GetString()))
                return $"status {status}: a problem without title or detail: {Short(text)}";
            return null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"status {status}: {e.GetType().Name} reading the problem: {Short(text)}";
        }
    }

    private static string Short(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static byte[] PixelsBody(Rng rng) =>
        Encoding.UTF8.GetBytes("{\"pixels\":[" + string.Join(",", Enumerable.Range(0, 784).Select(_ => rng.NextDouble().ToString("0.###", CultureInfo.InvariantCulture))) + "]}");

    // A multipart upload of a small PNG "1", written out byte for byte so that its framing is mutated too.
    private static byte[] Upload()
    {
        using var bitmap = Pictures.Draw(24, 24, SKColors.White, c => { using var pen = Pictures.Pen(SKColors.Black, 3); c.DrawLine(12, 3, 12, 20, pen); });
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"one.png\"\r\nContent-Type: image/png\r\n\r\n"));
        ms.Write(png.ToArray());
        ms.Write(Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n"));
        return ms.ToArray();
    }
}
