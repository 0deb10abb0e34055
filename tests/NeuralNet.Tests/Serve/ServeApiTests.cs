using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Cli;
using NeuralNet.Cli.Serve;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Cli;
using NeuralNet.Tests.Data;
using SkiaSharp;

namespace NeuralNet.Tests.Serve;

/// <summary><c>nn serve</c>'s JSON API on a loopback port: answers, problem objects, layer outputs, concurrency.</summary>
public sealed class ServeApiTests(MnistModel mnist) : IDisposable, IClassFixture<MnistModel>
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An untrained 784→16→10 MLP (seeded), with metadata dataset = mnist and a test accuracy.</summary>
    private string Mlp()
    {
        string path = _dir["mlp.npz"];
        var model = new Sequential<float>(new Linear<float>(784, 16, rng: new Rng(3)), new ReLU<float>(), new Linear<float>(16, 10, rng: new Rng(4)));
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist", ["test_accuracy"] = "0.5312" });
        return path;
    }

    /// <summary>An untrained small CNN taking (1, 28, 28): conv 1→3 (3×3) → ReLU → maxpool 2 → flatten → linear 507→10.</summary>
    private string Cnn()
    {
        string path = _dir["cnn.npz"];
        var model = new Sequential<float>(
            new Conv2d<float>(1, 3, 3, rng: new Rng(5)), new ReLU<float>(), new MaxPool2d<float>(2), new Flatten<float>(),
            new Linear<float>(3 * 13 * 13, 10, rng: new Rng(6)));
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        return path;
    }

    internal static float[] RandomPixels(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.NextDouble();
        return x;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    internal static StringContent PixelsBody(float[] pixels) =>
        Json("{\"pixels\":[" + string.Join(",", pixels.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}");

    private static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>softmax of the model's logits for one sample, computed here without the server.</summary>
    internal static double[] Direct(string checkpoint, float[] pixels, int[] shape)
    {
        var model = Checkpoint.Load<float>(checkpoint);
        model.Eval();
        var x = new Tensor<float>([1, .. shape]);
        pixels.CopyTo(x.Span);
        var logits = model.Forward(x).Row(0);
        double max = double.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z);
        double sum = 0;
        var p = new double[logits.Length];
        for (int c = 0; c < p.Length; c++) sum += p[c] = Math.Exp(logits[c] - max);
        return p.Select(v => v / sum).ToArray();
    }

    [Fact]
    public async Task Model_card_gives_architecture_input_shape_classes_parameters_and_test_accuracy()
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var card = await Ok(await server.Client.GetAsync("api/model"));
        Assert.Equal("MLP 784→16→10", card.GetProperty("summary").GetString());
        Assert.Equal([784], card.GetProperty("inputShape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Enumerable.Range(0, 10).Select(c => c.ToString(CultureInfo.InvariantCulture)), card.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(784 * 16 + 16 + 16 * 10 + 10, card.GetProperty("parameters").GetInt64());
        Assert.Equal(0.5312, card.GetProperty("testAccuracy").GetDouble());
        Assert.Equal("mnist", card.GetProperty("metadata").GetProperty("dataset").GetString());
        var layers = card.GetProperty("architecture").GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["Linear", "ReLU", "Linear"], layers);
    }

    [Fact]
    public async Task Pixels_give_the_probabilities_of_the_model_run_directly()
    {
        string path = Mlp();
        await using var server = await RunningServer.StartAsync(path);
        float[] pixels = RandomPixels(784, 11);
        var answer = await Ok(await server.Client.PostAsync("api/predict", PixelsBody(pixels)));
        double[] p = Doubles(answer.GetProperty("probabilities"));
        double[] expected = Direct(path, pixels, [784]);
        Assert.Equal(expected.Length, p.Length);
        for (int c = 0; c < p.Length; c++) Assert.Equal(expected[c], p[c], 12);
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal(best, answer.GetProperty("prediction").GetInt32());
        Assert.Equal(best.ToString(CultureInfo.InvariantCulture), answer.GetProperty("label").GetString());
        Assert.False(answer.TryGetProperty("activations", out _));
        Assert.False(answer.TryGetProperty("preprocessed", out _));
    }

    [Fact]
    public async Task A_diverged_models_probabilities_are_answered_as_nan_not_a_failure()
    {
        string path = _dir["nan.npz"];
        var model = new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(3)));
        model.Parameters()[0].Value.Fill(float.NaN);
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        await using var server = await RunningServer.StartAsync(path);
        var response = await server.Client.PostAsync("api/predict", PixelsBody(RandomPixels(784, 13)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.All(answer.GetProperty("probabilities").EnumerateArray(), p => Assert.Equal("NaN", p.GetString()));
    }

    [Fact]
    public async Task Activations_give_each_layers_output_with_its_shape()
    {
        string path = Cnn();
        await using var server = await RunningServer.StartAsync(path);
        float[] pixels = RandomPixels(784, 12);
        var answer = await Ok(await server.Client.PostAsync("api/predict?activations=true", PixelsBody(pixels)));
        var layers = answer.GetProperty("activations").EnumerateArray().ToArray();
        Assert.Equal(["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"], layers.Select(l => l.GetProperty("type").GetString()));
        int[][] shapes = layers.Select(l => l.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        Assert.Equal([[3, 26, 26], [3, 26, 26], [3, 13, 13], [507], [10]], shapes);
        for (int i = 0; i < layers.Length; i++) Assert.Equal(shapes[i].Aggregate(1, (a, b) => a * b), layers[i].GetProperty("values").GetArrayLength());

        // the convolution's output, computed here; the ReLU's is its positive part
        var model = (Sequential<float>)Checkpoint.Load<float>(path);
        var x = new Tensor<float>([1, 1, 28, 28]);
        pixels.CopyTo(x.Span);
        float[] conv = model[0].Forward(x).Span.ToArray();
        float[] served = layers[0].GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(conv, served);
        Assert.Equal(conv.Select(v => Math.Max(v, 0f)), layers[1].GetProperty("values").EnumerateArray().Select(e => e.GetSingle()));
        // the last layer's output is the logits the probabilities come from
        double[] logits = Doubles(layers[^1].GetProperty("values"));
        double[] p = Doubles(answer.GetProperty("probabilities"));
        Assert.Equal(Array.IndexOf(logits, logits.Max()), Array.IndexOf(p, p.Max()));
    }

    public static TheoryData<string, string?, string, int, string> BadJson => new()
    {
        // name, content type, body, status, a phrase the detail must hold
        { "too few values", "application/json", "{\"pixels\":[0.5,0.5]}", 400, "has 2 values; the model takes 784" },
        { "out of range", "application/json", "{\"pixels\":[0," + string.Join(",", Enumerable.Repeat("0", 782)) + ",1.5]}", 400, "pixels[783] is 1.5; values must lie in [0, 1]" },
        { "negative", "application/json", "{\"pixels\":[-0.25]}", 400, "pixels[0] is -0.25" },
        { "NaN", "application/json", "{\"pixels\":[NaN]}", 400, "not valid JSON" },
        { "NaN as a string", "application/json", "{\"pixels\":[\"NaN\"]}", 400, "pixels[0] is String, not a number" },
        { "huge", "application/json", "{\"pixels\":[1e400]}", 400, "pixels[0] is not a finite number" },
        { "malformed", "application/json", "{\"pixels\":[0.1,", 400, "not valid JSON" },
        { "no pixels", "application/json", "{\"image\":[]}", 400, "no \"pixels\" property" },
        { "not an object", "application/json", "[0.5]", 400, "must be a JSON object" },
        { "pixels not an array", "application/json", "{\"pixels\":0.5}", 400, "must be an array of 784 numbers" },
        { "text", "text/plain", "0.5", 415, "content type is 'text/plain'" },
        { "no content type", null, "{\"pixels\":[]}", 415, "content type is missing" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task Bad_requests_get_a_problem_object_naming_the_problem(string name, string? contentType, string body, int status, string phrase)
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        await AssertProblem(await server.Client.PostAsync("api/predict", content), status, phrase, name);
    }

    private static async Task AssertProblem(HttpResponseMessage response, int status, string phrase, string because)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{because}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.True(detail.Contains(phrase, StringComparison.Ordinal), $"{because}: the detail '{detail}' does not say '{phrase}'");
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_whether_their_length_is_declared_or_not()
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        string big = "{\"pixels\":[" + string.Join(",", Enumerable.Repeat("0.25", ServeApp.MaxJsonBytes / 4)) + "]}";
        await AssertProblem(await server.Client.PostAsync("api/predict", Json(big)), 413, "larger than the 1,048,576 bytes", "declared length");
        // chunked: no Content-Length, so the limit is found while reading
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "api/predict") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await AssertProblem(await server.Client.SendAsync(request), 413, "larger than the 1,048,576 bytes", "chunked");
        var upload = new MultipartFormDataContent { { new ByteArrayContent(new byte[ServeApp.MaxUploadBytes + 10]), "image", "big.png" } };
        await AssertProblem(await server.Client.PostAsync("api/predict", upload), 413, "upload is larger", "upload");
    }

    [Fact]
    public async Task A_multipart_body_cut_before_its_closing_boundary_gets_400_not_500()
    {
        // Found by ServeBodyFuzzTests: the multipart reader's IOException ("Unexpected end of Stream") was a 500 with no body.
        await using var server = await RunningServer.StartAsync(Mlp());
        byte[] cut = Encoding.ASCII.GetBytes("--b7\r\nContent-Disposition: form-data; name=\"image\"; filename=\"one.png\"\r\nContent-Type: image/png\r\n\r\n\u0089PNG");
        var content = new ByteArrayContent(cut);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b7");
        await AssertProblem(await server.Client.PostAsync("api/predict", content), 400, "the multipart body cannot be read", "cut upload");
    }

    [Fact]
    public async Task Bad_uploads_and_flags_get_a_problem_object()
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var junk = new MultipartFormDataContent { { new ByteArrayContent("not a picture"u8.ToArray()), "image", "junk.png" } };
        await AssertProblem(await server.Client.PostAsync("api/predict", junk), 400, "not a picture SkiaSharp can decode", "undecodable");
        var other = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "file", "x.png" } };
        await AssertProblem(await server.Client.PostAsync("api/predict", other), 400, "no file in the field 'image' (it has: file)", "wrong field");
        using (var blank = Pictures.Draw(50, 50, SKColors.White, _ => { }))
        {
            var upload = new MultipartFormDataContent { { new ByteArrayContent(blank.Encode(SKEncodedImageFormat.Png, 100).ToArray()), "image", "blank.png" } };
            await AssertProblem(await server.Client.PostAsync("api/predict", upload), 400, "one uniform shade", "blank");
        }
        await AssertProblem(await server.Client.PostAsync("api/predict?activations=maybe", PixelsBody(new float[784])), 400, "takes true or false, got 'maybe'", "flag");
    }

    [Fact]
    public async Task An_uploaded_picture_is_prepared_as_nn_predict_prepares_it()
    {
        string path = mnist.File ?? Mlp(); // the trained model knows a "1"; any model shows the preparation
        await using var server = await RunningServer.StartAsync(path);
        using var one = Pictures.Draw(300, 200, SKColors.White, c => { using var pen = Pictures.Pen(SKColors.Black, 16); c.DrawLine(60, 30, 74, 165, pen); });
        byte[] png = one.Encode(SKEncodedImageFormat.Png, 100).ToArray();
        File.WriteAllBytes(_dir["one.png"], png);
        var upload = new MultipartFormDataContent { { new ByteArrayContent(png), "image", "one.png" } };
        var answer = await Ok(await server.Client.PostAsync("api/predict?activations=true", upload));

        var image = GreyImage.Read(_dir["one.png"]);
        float[] expected = ImagePreprocessing.MnistDigit(image.Pixels, image.Width, image.Height);
        Assert.Equal(expected, answer.GetProperty("preprocessed").EnumerateArray().Select(e => e.GetSingle()));
        double[] p = Doubles(answer.GetProperty("probabilities"));
        double[] direct = Direct(path, expected, [784]);
        for (int c = 0; c < p.Length; c++) Assert.Equal(direct[c], p[c], 12);
        Assert.True(answer.GetProperty("activations").GetArrayLength() >= 3);
        if (mnist.File is not null) Assert.Equal("1", answer.GetProperty("label").GetString());
    }

    [Fact]
    public async Task Many_parallel_requests_give_the_same_answers_as_sequential_ones()
    {
        string path = Cnn();
        await using var server = await RunningServer.StartAsync(path, instances: 3);
        const int n = 96;
        float[][] inputs = Enumerable.Range(0, n).Select(i => RandomPixels(784, 100 + (ulong)i)).ToArray();
        var sequential = new string[n];
        for (int i = 0; i < n; i++) sequential[i] = await Answer(server, inputs[i]);
        var parallel = await Task.WhenAll(Enumerable.Range(0, n).Select(i => Task.Run(() => Answer(server, inputs[i]))));
        Assert.Equal(sequential, parallel);
        // and the answers differ from input to input, so equal lists mean something
        Assert.True(sequential.Distinct().Count() > n / 2);
        double[] direct = Direct(path, inputs[7], [1, 28, 28]);
        double[] served = Doubles(JsonDocument.Parse(sequential[7]).RootElement.GetProperty("probabilities"));
        for (int c = 0; c < direct.Length; c++) Assert.Equal(direct[c], served[c], 12);
    }

    private static async Task<string> Answer(RunningServer server, float[] pixels)
    {
        var response = await server.Client.PostAsync("api/predict?activations=true", PixelsBody(pixels));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    [Fact]
    public async Task The_page_and_its_script_and_style_are_served_from_inside_nn()
    {
        await using var server = await RunningServer.StartAsync(Mlp());
        var page = await server.Client.GetAsync("");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<canvas id=\"pad\"", html);
        Assert.DoesNotContain("://", html); // nothing from elsewhere: it works offline
        foreach (var (file, type) in new[] { ("app.js", "text/javascript"), ("app.css", "text/css") })
        {
            var response = await server.Client.GetAsync(file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("http", await response.Content.ReadAsStringAsync());
        }
    }
}
