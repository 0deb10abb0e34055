using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace NeuralNet.Benchmarks;

/// <summary>
/// A closed-loop load generator for <c>nn serve</c>: N clients, each with its own keep-alive connection, send
/// <c>POST /api/predict</c> with one JSON sample back to back for a fixed time; requests per second and latency
/// percentiles come out as one JSON line per client count. Loopback only; it shares the machine's cores with the server.
/// </summary>
public static class ServeLoad
{
    /// <summary>Runs every client count in turn against <paramref name="url"/> ("http://127.0.0.1:PORT/").</summary>
    public static void Run(string url, IReadOnlyList<int> clientCounts, double seconds, double warmupSeconds, string label)
    {
        var uri = new Uri(url);
        if (!IPAddress.TryParse(uri.Host, out var ip) || !IPAddress.IsLoopback(ip))
            throw new ArgumentException($"--url must be a loopback address (127.0.0.1, ::1), got {uri.Host}");
        if (seconds is <= 0 or > 60) throw new ArgumentException($"--seconds must be in (0, 60], got {seconds}");
        if (clientCounts.Count == 0 || clientCounts.Any(c => c is < 1 or > 256)) throw new ArgumentException($"--clients must be 1…256 each, got {string.Join(",", clientCounts)}");
        using var probe = new HttpClient { BaseAddress = uri };
        var card = JsonDocument.Parse(probe.GetStringAsync("api/model").GetAwaiter().GetResult()).RootElement;
        int[] shape = card.GetProperty("inputShape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        byte[] body = Body(shape);
        string summary = card.GetProperty("summary").GetString() ?? "";
        foreach (int clients in clientCounts)
        {
            Measure(uri, body, clients, warmupSeconds); // connections opened, code compiled
            var (count, errors, elapsed, latencies) = Measure(uri, body, clients, seconds);
            Array.Sort(latencies);
            double rps = count / elapsed;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = label == "" ? summary : label,
                clients,
                requests = count,
                errors,
                seconds = Math.Round(elapsed, 2),
                requests_per_second = Math.Round(rps, 0),
                p50_ms = Math.Round(Percentile(latencies, 0.50), 3),
                p99_ms = Math.Round(Percentile(latencies, 0.99), 3),
                loadavg = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
            }, MachineInfo.JsonText));
        }
    }

    /// <summary>{"pixels": […]}: a vertical stroke, as a "1" is drawn, in an image of <paramref name="shape"/> (values 0 and 1).</summary>
    private static byte[] Body(int[] shape)
    {
        int length = shape.Aggregate(1, (a, b) => a * b);
        int side = (int)Math.Round(Math.Sqrt(shape.Length == 3 ? shape[1] * shape[2] : length));
        var sb = new StringBuilder("{\"pixels\":[");
        for (int i = 0; i < length; i++)
        {
            int row = i % (side * side) / side, col = i % side;
            bool ink = col >= side / 2 - 1 && col <= side / 2 + 1 && row >= side / 7 && row < side - side / 7;
            sb.Append(i == 0 ? "" : ",").Append(ink ? "1" : "0");
        }
        return Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
    }

    private static (long Count, long Errors, double Seconds, double[] LatenciesMs) Measure(Uri uri, byte[] body, int clients, double seconds)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        var latencies = new List<double>[clients];
        long count = 0, errors = 0;
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(seconds * Stopwatch.Frequency);
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            var mine = latencies[c] = new List<double>(1 << 16);
            tasks[c] = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync("api/predict", content);
                    await response.Content.ReadAsByteArrayAsync();
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    if (response.IsSuccessStatusCode) Interlocked.Increment(ref count);
                    else Interlocked.Increment(ref errors);
                }
            });
        }
        Task.WaitAll(tasks);
        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (count, errors, elapsed, latencies.SelectMany(l => l).ToArray());
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
