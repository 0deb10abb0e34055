using System.Buffers;
using System.Net;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Serve;

/// <summary>
/// The web demo: one page (a canvas to draw on, what the network sees, its probabilities and its layers' outputs; for a
/// table model, a form with a field per input column and the prediction) and
/// a small JSON API over a <see cref="ModelServer"/>, on ASP.NET Core's Kestrel.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>GET /</c>, <c>/app.js</c>, <c>/app.css</c>: the page, from resources inside nn (it works offline).</item>
/// <item><c>GET /api/model</c>: <see cref="ModelServer.Card"/>.</item>
/// <item><c>POST /api/predict</c>: <c>{"pixels": […]}</c> (application/json), the model's input as it is; or a picture
/// (multipart/form-data, field <c>image</c>), prepared as <c>nn predict</c> prepares it. <c>?activations=true</c> adds
/// each layer's output. A table model (<c>nn train --csv</c>) takes <c>{"features": {"column": value, …}}</c> instead
/// (<see cref="FeaturesRequest"/>) and answers class probabilities or a <see cref="RegressionResponse"/>; activations are
/// for pictures only.</item>
/// </list>
/// Refused requests get an RFC 7807 problem (application/problem+json): 400 (malformed, wrong count, out of range,
/// undecodable), 413 (body over <see cref="MaxJsonBytes"/> or <see cref="MaxUploadBytes"/>), 415 (another content type).
/// Requests over Kestrel's own limits (set in <see cref="Build"/>) are refused by Kestrel, without a problem object: 431
/// for headers over 16 KiB or 64 in number.
/// </remarks>
internal static class ServeApp
{
    /// <summary>The largest JSON body accepted: 1 MiB (a 28×28 input takes about 16 KB).</summary>
    public const int MaxJsonBytes = 1 << 20;

    /// <summary>The largest picture upload accepted: 8 MiB.</summary>
    public const int MaxUploadBytes = 8 << 20;

    /// <summary>The largest picture accepted, in pixels once decoded: 25 million (a 100 MB RGBA buffer).</summary>
    public const long MaxUploadPixels = 25_000_000;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // "784→128", not "784\u2192128" (HTML-safe escaping is not needed in JSON bodies)
        // A diverged model's probabilities are answered as "NaN"/"Infinity" (as every JSON nn writes), not a failure.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Builds the app, listening on <paramref name="host"/>:<paramref name="port"/> (0: a free port). Start it with StartAsync.</summary>
    /// <exception cref="CliException"><paramref name="host"/> is no IP address or "localhost", or the port is out of range.</exception>
    public static WebApplication Build(ModelServer server, string host, int port)
    {
        if (port is < 0 or > 65535) throw new CliException($"--port must be in 0…65535, got {port}");
        IPAddress address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new CliException($"--host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, got '{host}'");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // stdout carries only "Listening on …"
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, port);
            k.AddServerHeader = false;
            // Kestrel's limits, set here rather than left to its defaults; a request over one is refused by Kestrel itself:
            // - the body: a backstop (413); the handlers check their own, smaller limits and answer with a problem object
            k.Limits.MaxRequestBodySize = MaxUploadBytes + (64 << 10);
            // - headers: the page and the API need a handful; more than 16 KiB or 64 of them is a 431
            k.Limits.MaxRequestHeadersTotalSize = 16 << 10;
            k.Limits.MaxRequestHeaderCount = 64;
            // - a client has 10 s to send its headers and may stay idle 30 s between requests; then the connection is closed
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            // - open connections: 2,000 at once (an idle one costs a socket and a few KB); more are closed on arrival
            k.Limits.MaxConcurrentConnections = 2000;
            // - a body must arrive at 240 bytes/s or faster after a 5 s grace, or the request ends with a 408
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        });
        var app = builder.Build();

        app.MapGet("/", ctx => Resource(ctx, "index.html", "text/html; charset=utf-8"));
        app.MapGet("/app.js", ctx => Resource(ctx, "app.js", "text/javascript; charset=utf-8"));
        app.MapGet("/app.css", ctx => Resource(ctx, "app.css", "text/css; charset=utf-8"));
        app.MapGet("/api/model", ctx => ctx.Response.WriteAsJsonAsync(server.Card, s_json, ctx.RequestAborted));
        app.MapPost("/api/predict", ctx => Guarded(ctx, () => Predict(ctx, server)));
        return app;
    }

    /// <summary>The address the started <paramref name="app"/> listens on: "http://127.0.0.1:5000/".</summary>
    public static string Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        string first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("ServeApp: the server reports no address; was it started?");
        return first.EndsWith('/') ? first : first + "/";
    }

    private static async Task Predict(HttpContext ctx, ModelServer server)
    {
        bool activations = Flag(ctx.Request.Query["activations"], "activations");
        string? contentType = ctx.Request.ContentType;
        string accepted = server.Table is not null
            ? "send application/json ({\"features\": {\"column\": value, …}})"
            : "send application/json ({\"pixels\": […]}) or multipart/form-data with a picture in the field 'image'";
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not string type)
            throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"the body's content type is {(contentType is null ? "missing" : $"'{contentType}'")}; {accepted}");
        if (server.Table is not null && type.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            // a table model: one row of named column values, preprocessed as nn predict --csv does
            string[] cells = FeaturesRequest.Parse(await ReadBody(ctx, MaxJsonBytes, "JSON body"), server.Table);
            await ctx.Response.WriteAsJsonAsync(await server.PredictTableAsync(cells, ctx.RequestAborted), s_json, ctx.RequestAborted);
            return;
        }

        float[] sample;
        float[]? preprocessed = null;
        if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            byte[] body = await ReadBody(ctx, MaxJsonBytes, "JSON body");
            (float min, float max) = server.Preparation is null ? (float.MinValue, float.MaxValue) : (0f, 1f);
            sample = PixelsRequest.Parse(body, server.SampleLength, server.SampleShape, min, max);
        }
        else if (type.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var preparation = server.Preparation ?? throw new ProblemException(StatusCodes.Status400BadRequest, "Model takes no pictures",
                server.Table is not null
                    ? $"this is a table model: it takes {{\"features\": {{\"column\": value, …}}}} as JSON, not a picture"
                    : $"the model takes {string.Join("×", server.SampleShape)} numbers, which no picture maps to; send {{\"pixels\": […]}} as JSON");
            if (ctx.Request.ContentLength > MaxUploadBytes) throw TooLarge("upload", MaxUploadBytes);
            IFormCollection form;
            try
            {
                form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            }
            // NOTE: a multipart body that ends before its closing boundary fails in the reader with an IOException
            // ("Unexpected end of Stream"), not an InvalidDataException; Kestrel's limits (BadHttpRequestException, also
            // an IOException) keep their own status.
            catch (Exception e) when (e is InvalidDataException || (e is IOException and not BadHttpRequestException && !ctx.RequestAborted.IsCancellationRequested))
            {
                throw new ProblemException(StatusCodes.Status400BadRequest, "Malformed upload", $"the multipart body cannot be read: {e.Message}");
            }
            var file = form.Files.GetFile("image") ?? throw new ProblemException(StatusCodes.Status400BadRequest, "Missing image",
                "the upload has no file in the field 'image'" + (form.Files.Count > 0 ? $" (it has: {string.Join(", ", form.Files.Select(f => f.Name))})" : ""));
            byte[] bytes = new byte[file.Length];
            await using (var stream = file.OpenReadStream()) await stream.ReadExactlyAsync(bytes, ctx.RequestAborted);
            try
            {
                sample = preprocessed = preparation.Apply(GreyImage.Decode(bytes, $"the uploaded image '{file.FileName}'", MaxUploadPixels));
            }
            catch (InvalidDataException e)
            {
                throw new ProblemException(StatusCodes.Status400BadRequest, "Undecodable image", e.Message);
            }
            catch (ArgumentException e)
            {
                throw new ProblemException(StatusCodes.Status400BadRequest, "Nothing to classify", $"the uploaded image cannot be prepared: {e.Message}");
            }
        }
        else
        {
            throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"the body's content type is '{type}'; {accepted}");
        }

        var answer = await server.PredictAsync(sample, activations, ctx.RequestAborted);
        if (preprocessed is not null) answer = answer with { Preprocessed = preprocessed };
        await ctx.Response.WriteAsJsonAsync(answer, s_json, ctx.RequestAborted);
    }

    /// <summary>Runs a handler, turning refused requests into problem objects.</summary>
    private static async Task Guarded(HttpContext ctx, Func<Task> handler)
    {
        try
        {
            await handler();
        }
        catch (ProblemException e)
        {
            await Problem(ctx, e.Status, e.Title, e.Message);
        }
        catch (BadHttpRequestException e) // Kestrel's own limits: the body over MaxRequestBodySize, a client that stalls
        {
            await Problem(ctx, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Body too large" : "Bad request", e.Message);
        }
        catch (ShapeMismatchException e) // a checkpoint whose layers do not fit together: the model's fault, not the request's
        {
            await Problem(ctx, StatusCodes.Status500InternalServerError, "Model failed", e.Message);
        }
    }

    /// <summary>An RFC 7807 problem: application/problem+json with type, title, status and detail.</summary>
    private static Task Problem(HttpContext ctx, int status, string title, string detail)
    {
        if (ctx.Response.HasStarted) return Task.CompletedTask;
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        var problem = new ProblemBody($"https://www.rfc-editor.org/rfc/rfc9110#status.{status}", title, status, detail, ctx.Request.Path);
        return ctx.Response.WriteAsJsonAsync(problem, s_json, "application/problem+json", ctx.RequestAborted);
    }

    /// <summary>The body, at most <paramref name="limit"/> bytes; more is a 413 problem.</summary>
    private static async Task<byte[]> ReadBody(HttpContext ctx, int limit, string what)
    {
        long? declared = ctx.Request.ContentLength;
        if (declared > limit) throw TooLarge(what, limit);
        var buffer = new byte[declared is long n ? (int)n : 16 << 10];
        int length = 0;
        var body = ctx.Request.Body;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length >= limit + 1) throw TooLarge(what, limit);
                Array.Resize(ref buffer, Math.Min(limit + 1, buffer.Length * 2));
            }
            int read = await body.ReadAsync(buffer.AsMemory(length), ctx.RequestAborted);
            if (read == 0) break;
            length += read;
            if (length > limit) throw TooLarge(what, limit);
        }
        return length == buffer.Length ? buffer : buffer[..length];
    }

    private static ProblemException TooLarge(string what, int limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the {what} is larger than the {limit:N0} bytes accepted");

    /// <summary>A query flag: absent, "false" or "0" is off; "true", "1" or empty is on; anything else is a 400.</summary>
    private static bool Flag(Microsoft.Extensions.Primitives.StringValues values, string name)
    {
        if (values.Count == 0) return false;
        return values[^1]?.ToLowerInvariant() switch
        {
            "true" or "1" or "" => true,
            "false" or "0" => false,
            var v => throw new ProblemException(StatusCodes.Status400BadRequest, "Bad query parameter", $"?{name}= takes true or false, got '{v}'"),
        };
    }

    private static async Task Resource(HttpContext ctx, string name, string contentType)
    {
        await using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("page/" + name)
            ?? throw new InvalidOperationException($"ServeApp: the page resource '{name}' is missing from nn.");
        ctx.Response.ContentType = contentType;
        ctx.Response.Headers.CacheControl = "no-cache";
        await stream.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, string Instance);
}
