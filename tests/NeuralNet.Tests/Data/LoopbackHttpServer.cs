using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NeuralNet.Tests.Data;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (a free port) for download tests: GET only, one request per connection.
/// Unknown paths get 404. <see cref="Requests"/> records every path asked for, in order.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private sealed record Route(byte[] Body, int SendBeforeStall);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<string, Route> _routes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackHttpServer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Serves <paramref name="body"/> at <paramref name="path"/> with a 200.</summary>
    public void Serve(string path, byte[] body) => _routes[path] = new Route(body, -1);

    /// <summary>Announces the whole body, sends <paramref name="bytes"/> of it, then goes silent until disposed.</summary>
    public void ServeStalling(string path, byte[] body, int bytes) => _routes[path] = new Route(body, bytes);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string? path = await ReadRequestPathAsync(stream);
                if (path is null) return;
                Requests.Enqueue(path);
                if (!_routes.TryGetValue(path, out Route? route))
                {
                    await WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {route.Body.Length}\r\nConnection: close\r\n\r\n");
                if (route.SendBeforeStall < 0)
                {
                    await stream.WriteAsync(route.Body, _stop.Token);
                    return;
                }
                await stream.WriteAsync(route.Body.AsMemory(0, route.SendBeforeStall), _stop.Token);
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
            catch (IOException) { }  // the client gave up
        }
    }

    private async Task<string?> ReadRequestPathAsync(NetworkStream stream)
    {
        var header = new StringBuilder();
        var buffer = new byte[1024];
        while (!header.ToString().Contains("\r\n\r\n"))
        {
            int n = await stream.ReadAsync(buffer, _stop.Token);
            if (n == 0) return null;
            header.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        string[] requestLine = header.ToString().Split("\r\n")[0].Split(' ');
        return requestLine.Length >= 2 && requestLine[0] == "GET" ? requestLine[1] : null;
    }

    private Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token).AsTask();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stop.Dispose();
    }
}
