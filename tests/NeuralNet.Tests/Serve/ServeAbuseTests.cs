using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// <c>nn serve</c> under load and abuse, on a loopback port: many concurrent clients with a third of the requests
/// malformed, idle connections held open, requests over Kestrel's limits. In the serial collection, so that the memory
/// read before and after the load is this test's alone.
/// </summary>
[Collection("Serial")]
public sealed class ServeAbuseTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An untrained 784→16→10 MLP (seeded), as in ServeApiTests.</summary>
    private string Mlp()
    {
        string path = _dir["mlp.npz"];
        var model = new Sequential<float>(new Linear<float>(784, 16, rng: new Rng(3)), new ReLU<float>(), new Linear<float>(16, 10, rng: new Rng(4)));
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        return path;
    }

    /// <summary>One request kind: its body and content type, and the status it must get (200: a valid sample).</summary>
    private sealed record Kind(string Name, byte[] Body, string? ContentType, int Status, int Sample = -1);

    /// <summary>The malformed kinds, each with the status its problem object must carry.</summary>
    private static Kind[] Malformed()
    {
        string Pixels(IEnumerable<string> values) => "{\"pixels\":[" + string.Join(",", values) + "]}";
        var halves = Enumerable.Repeat("0.5", 783);
        return
        [
            new("wrong length", Encoding.UTF8.GetBytes(Pixels(Enumerable.Repeat("0.5", 100))), "application/json", 400),
            new("NaN", Encoding.UTF8.GetBytes(Pixels(halves.Append("NaN"))), "application/json", 400),
            new("out of range", Encoding.UTF8.GetBytes(Pixels(halves.Append("1.5"))), "application/json", 400),
            new("infinite", Encoding.UTF8.GetBytes(Pixels(halves.Append("1e400"))), "application/json", 400),
            new("truncated JSON", Encoding.UTF8.GetBytes(Pixels(halves)[..2000]), "application/json", 400),
            new("oversize", Encoding.UTF8.GetBytes(Pixels(Enumerable.Repeat("0.25", (1 << 20) / 4))), "application/json", 413),
            new("wrong content type", Encoding.UTF8.GetBytes(Pixels(halves.Append("0.5"))), "text/plain", 415),
            new("no content type", Encoding.UTF8.GetBytes(Pixels(halves.Append("0.5"))), null, 415),
        ];
    }

    private static HttpContent Content(Kind kind)
    {
        var content = new ByteArrayContent(kind.Body);
        if (kind.ContentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(kind.ContentType);
        return content;
    }

    /// <summary>The working set after a full, compacting collection, in MB.</summary>
    private static double Memory()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / 1e6;
    }

    [Fact]
    public async Task Ten_thousand_requests_a_third_malformed_get_no_5xx_right_answers_and_no_memory_growth()
    {
        string path = Mlp();
        await using var server = await RunningServer.StartAsync(path, instances: 2);
        const int samples = 64, clients = 32, warmup = 1_000, total = 10_000;
        float[][] inputs = Enumerable.Range(0, samples).Select(i => ServeApiTests.RandomPixels(784, 500 + (ulong)i)).ToArray();
        double[][] expected = inputs.Select(x => ServeApiTests.Direct(path, x, [784])).ToArray();
        Kind[] valid = Enumerable.Range(0, samples).Select(i => new Kind("valid",
            Encoding.UTF8.GetBytes("{\"pixels\":[" + string.Join(",", inputs[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}"),
            "application/json", 200, i)).ToArray();
        Kind[] malformed = Malformed();
        // request i: every third one malformed, cycling through the kinds; the others cycle through the samples
        Kind KindOf(int i) => i % 3 == 2 ? malformed[i / 3 % malformed.Length] : valid[i % samples];

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients })
        {
            BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(30),
        };
        var statuses = new int[600];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        async Task Run(int count, bool record)
        {
            int next = -1;
            async Task Client()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var kind = KindOf(i);
                    using var response = await client.PostAsync("api/predict", Content(kind));
                    int status = (int)response.StatusCode;
                    string text = await response.Content.ReadAsStringAsync();
                    if (record) Interlocked.Increment(ref statuses[status]);
                    string? wrong = Check(kind, status, response.Content.Headers.ContentType?.MediaType, text, expected);
                    if (wrong is not null) failures.Enqueue($"request {i} ({kind.Name}): {wrong}");
                }
            }
            await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Client)));
        }

        await Run(warmup, record: false);
        double before = Memory();
        var clock = Stopwatch.StartNew();
        await Run(total, record: true);
        double seconds = clock.Elapsed.TotalSeconds;
        double after = Memory();

        output.WriteLine($"{total:N0} requests from {clients} clients in {seconds:F1} s: {total / seconds:F0} requests/s");
        output.WriteLine("by status: " + string.Join(", ", Enumerable.Range(0, statuses.Length).Where(s => statuses[s] > 0).Select(s => $"{s}: {statuses[s]}")));
        output.WriteLine($"working set after the {warmup:N0}-request warm-up and a full GC: {before:F1} MB; after the run and a full GC: {after:F1} MB ({after - before:+0.0;-0.0} MB)");
        foreach (string f in failures.Take(10)) output.WriteLine(f);

        Assert.Empty(failures);
        Assert.Equal(total, statuses.Sum());
        Assert.Equal(0, statuses[500..].Sum());
        int malformedCount = Enumerable.Range(0, total).Count(i => i % 3 == 2);
        Assert.Equal(total - malformedCount, statuses[200]);
        Assert.True(after - before < 50, $"the working set grew by {after - before:F1} MB over {total:N0} requests");
    }

    /// <summary>What is wrong with one answer, or null: the status, the problem object, or the probabilities.</summary>
    private static string? Check(Kind kind, int status, string? mediaType, string text, double[][] expected)
    {
        if (status != kind.Status) return $"expected {kind.Status}, got {status}: {text[..Math.Min(text.Length, 300)]}";
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException e)
        {
            return $"the answer is no JSON ({e.Message}): {text[..Math.Min(text.Length, 300)]}";
        }
        if (kind.Status != 200)
        {
            if (mediaType != "application/problem+json") return $"a problem must be application/problem+json, got {mediaType}";
            if (!body.TryGetProperty("status", out var s) || s.GetInt32() != status) return $"the problem object's status is not {status}: {text}";
            if (!body.TryGetProperty("detail", out var d) || string.IsNullOrEmpty(d.GetString())) return $"the problem object has no detail: {text}";
            return null;
        }
        double[] want = expected[kind.Sample];
        double[] got = body.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        if (got.Length != want.Length) return $"{got.Length} probabilities, expected {want.Length}";
        for (int c = 0; c < want.Length; c++)
            if (Math.Abs(got[c] - want[c]) > 1e-6) return $"probability {c} is {got[c]}, the model run directly gives {want[c]}";
        int best = Array.IndexOf(want, want.Max());
        return body.GetProperty("prediction").GetInt32() == best ? null : $"predicted {body.GetProperty("prediction").GetInt32()}, the model run directly gives {best}";
    }

    [Fact]
    public async Task Two_hundred_idle_connections_do_not_keep_a_fresh_request_waiting()
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var uri = new Uri(server.Address);
        var idle = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, uri.Port);
                // half send nothing; half send the start of a request line and stop
                if (i % 2 == 1) await tcp.GetStream().WriteAsync("POST /api/pre"u8.ToArray());
                idle.Add(tcp);
            }
            await Task.Delay(200); // let the server accept them all

            float[] pixels = ServeApiTests.RandomPixels(784, 21);
            using var fresh = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(10) };
            var clock = Stopwatch.StartNew();
            using var response = await fresh.PostAsync("api/predict", ServeApiTests.PixelsBody(pixels));
            string text = await response.Content.ReadAsStringAsync();
            double ms = clock.Elapsed.TotalMilliseconds;
            output.WriteLine($"a fresh request beside {idle.Count} idle connections: {(int)response.StatusCode} in {ms:F1} ms");
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            Assert.True(ms < 1000, $"the fresh request took {ms:F0} ms");
            // the idle connections were all still open while it was answered
            Assert.All(idle, tcp => Assert.True(tcp.Connected));
        }
        finally
        {
            foreach (var tcp in idle) tcp.Dispose();
        }
    }

    [Theory]
    [InlineData("one header of 20 KB", 1, 20_000)]
    [InlineData("80 headers", 80, 10)]
    public async Task Headers_over_kestrels_limits_get_431_and_headers_under_them_are_answered(string name, int count, int length)
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var over = new HttpRequestMessage(HttpMethod.Get, "api/model");
        for (int i = 0; i < count; i++) over.Headers.Add($"X-Pad-{i}", new string('a', length));
        using var refused = await server.Client.SendAsync(over);
        Assert.True(refused.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{name}: {(int)refused.StatusCode}");

        // a fair request (a few KB of headers, a few dozen of them) is answered
        var fair = new HttpRequestMessage(HttpMethod.Get, "api/model");
        for (int i = 0; i < 30; i++) fair.Headers.Add($"X-Pad-{i}", new string('a', 200));
        using var answered = await server.Client.SendAsync(fair);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }
}
