using Microsoft.AspNetCore.Builder;
using NeuralNet.Cli.Serve;

namespace NeuralNet.Tests.Serve;

/// <summary>nn serve's app on a free loopback port, in this process, with an HttpClient pointed at it; stopped on dispose.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningServer(WebApplication app, ModelServer model)
    {
        _app = app;
        Model = model;
        Address = ServeApp.Address(app);
        Client = new HttpClient { BaseAddress = new Uri(Address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static async Task<RunningServer> StartAsync(string checkpoint, int instances = 2)
    {
        var model = new ModelServer(checkpoint, instances);
        var app = ServeApp.Build(model, "127.0.0.1", 0);
        await app.StartAsync();
        return new RunningServer(app, model);
    }

    /// <summary>"http://127.0.0.1:PORT/".</summary>
    public string Address { get; }

    public HttpClient Client { get; }

    public ModelServer Model { get; }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
