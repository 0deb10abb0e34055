using System.CommandLine;
using Microsoft.Extensions.Hosting;
using NeuralNet.Cli.Serve;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn serve --model MODEL [--port 5000] [--host 127.0.0.1]</c>: a page to draw digits on and see what the network
/// makes of them (for a table model, a form with a field per column), and a JSON API (<see cref="ServeApp"/>). The first line on stdout is <c>Listening on http://HOST:PORT/</c>;
/// Ctrl+C stops it.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint (.npz or safetensors) written by nn train or nn export", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free one)", DefaultValueFactory = _ => 5000 };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var instances = new Option<int>("--instances") { Description = "Copies of the model serving requests at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("serve", "Serve a page to draw on (the picture as the network sees it, the class probabilities, each layer's output), or for a table model a form of its columns, and a JSON API: POST /api/predict, GET /api/model.");
        foreach (var o in new Option[] { model, port, host, instances }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() => Run(p.GetValue(model)!, p.GetValue(host)!, p.GetValue(port), p.GetValue(instances))));
        return cmd;
    }

    public static int Run(string modelPath, string host, int port, int instances)
    {
        var server = new ModelServer(modelPath, instances);
        var app = ServeApp.Build(server, host, port);
        int threads = TensorOps.Threads;
        // each request runs on its own thread; with more, they would queue for the kernels' one pool
        TensorOps.Threads = 1;
        try
        {
            try
            {
                app.StartAsync().GetAwaiter().GetResult();
            }
            catch (IOException e) // the port is taken, or the address is not this machine's
            {
                throw new CliException($"cannot listen on {host}:{port}: {e.Message}", 1);
            }
            Console.Out.WriteLine($"Listening on {ServeApp.Address(app)}");
            Console.Out.Flush();
            app.WaitForShutdownAsync().GetAwaiter().GetResult(); // Ctrl+C (SIGINT) or SIGTERM
        }
        finally
        {
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            TensorOps.Threads = threads;
        }
        Console.Error.WriteLine("nn serve: stopped");
        return 0;
    }
}
