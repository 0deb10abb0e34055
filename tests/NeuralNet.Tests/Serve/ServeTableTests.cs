using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Serve;
using NeuralNet.Cli.Tables;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using static NeuralNet.Tests.Cli.CliTests;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// <c>nn serve</c> with table models: the card's columns, <c>{"features": …}</c> answered as <c>nn predict --csv</c>
/// answers the same row, every refusal as a problem object naming the column, and the page's form.
/// </summary>
[Collection("Console")]
public sealed class ServeTableTests(TableModels tables) : IClassFixture<TableModels>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Features(double x1, double x2, string colour) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"features\":{{\"x1\":{x1:R},\"x2\":{x2:R},\"colour\":\"{colour}\"}}}}");

    private static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>nn predict --model MODEL --csv on a one-row table of x1, x2, colour: the fields after the inputs (prediction, p_…).</summary>
    private string[] PredictCsv(string model, double x1, double x2, string colour)
    {
        string csv = _dir[$"row-{Guid.NewGuid():N}.csv"];
        File.WriteAllText(csv, string.Create(CultureInfo.InvariantCulture, $"x1,x2,colour\n{x1:R},{x2:R},{colour}\n"));
        var (code, stdout, err) = Run("predict", "--model", model, "--csv", csv);
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        return lines[1].Split(',')[3..];
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    public static TheoryData<double, double, string> Rows => new()
    {
        { 0.9, 0.5, "red" },
        { -0.8, -0.7, "blue" },
        { 0.3, 0.1, "green" },
        { -0.25, 0.125, "red" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Classification_features_give_the_class_and_probabilities_nn_predict_csv_gives(double x1, double x2, string colour)
    {
        await using var server = await RunningServer.StartAsync(tables.Classifier);
        var answer = await Ok(await server.Client.PostAsync("api/predict", Json(Features(x1, x2, colour))));
        string[] expected = PredictCsv(tables.Classifier, x1, x2, colour); // prediction, p_hi, p_lo (6 significant digits)
        Assert.Equal(expected[0], answer.GetProperty("label").GetString());
        Assert.Equal(expected[0] == "hi" ? 0 : 1, answer.GetProperty("prediction").GetInt32());
        double[] p = answer.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, p.Length);
        Assert.Equal(Number(expected[1]), p[0], 1e-6);
        Assert.Equal(Number(expected[2]), p[1], 1e-6);
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.False(answer.TryGetProperty("preprocessed", out _));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Regression_features_give_the_value_nn_predict_csv_gives_on_the_targets_scale(double x1, double x2, string colour)
    {
        await using var server = await RunningServer.StartAsync(tables.Regressor);
        var answer = await Ok(await server.Client.PostAsync("api/predict", Json(Features(x1, x2, colour))));
        Assert.Equal(["prediction"], answer.EnumerateObject().Select(p => p.Name));
        double predicted = answer.GetProperty("prediction").GetDouble();
        double expected = Number(PredictCsv(tables.Regressor, x1, x2, colour)[0]);
        Assert.Equal(expected, predicted, 1e-5 * Math.Abs(expected)); // nn predict writes 6 significant digits
        // on the original scale (about 100), not the standardized one the model outputs
        double truth = 3 * x1 - 2 * x2 + 5 * (colour == "red" ? 1 : 0) + 100;
        Assert.InRange(predicted - truth, -2.0, 2.0);
    }

    [Fact]
    public async Task Null_is_a_missing_value_filled_as_nn_predict_csv_fills_an_empty_cell_when_trained_with_fill()
    {
        // the fixture's table with x1 missing in one row and colour in another, trained with --fill mean
        var lines = File.ReadAllLines(tables.Csv);
        lines[5] = string.Join(',', lines[5].Split(',').Select((f, i) => i == 1 ? "" : f));
        lines[7] = string.Join(',', lines[7].Split(',').Select((f, i) => i == 3 ? "NA" : f));
        string csv = _dir["gaps.csv"];
        File.WriteAllLines(csv, lines);
        var (code, _, err) = Run("train", "--csv", csv, "--target", "label", "--ignore", "id,value", "--fill", "mean", "--epochs", "5",
            "--output", _dir["gaps"], "--seed", "3", "--no-figures", "--quiet");
        Assert.True(code == 0, err);
        string model = Path.Combine(_dir["gaps"], "checkpoints", "best_model.npz");
        await using var server = await RunningServer.StartAsync(model, instances: 1);
        var card = await Ok(await server.Client.GetAsync("api/model"));
        Assert.True(card.GetProperty("columns")[0].GetProperty("fillable").GetBoolean());

        var answer = await Ok(await server.Client.PostAsync("api/predict", Json("{\"features\":{\"x1\":null,\"x2\":0.25,\"colour\":null}}")));
        string row = _dir["gap-row.csv"];
        File.WriteAllText(row, "x1,x2,colour\n,0.25,\n");
        (code, string stdout, err) = Run("predict", "--model", model, "--csv", row);
        Assert.True(code == 0, err);
        string[] expected = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(',')[3..];
        Assert.Equal(expected[0], answer.GetProperty("label").GetString());
        Assert.Equal(Number(expected[1]), answer.GetProperty("probabilities")[0].GetDouble(), 1e-6);
        Assert.Equal(Number(expected[2]), answer.GetProperty("probabilities")[1].GetDouble(), 1e-6);
    }

    [Fact]
    public async Task A_table_models_card_lists_its_columns_with_kinds_categories_and_means_and_its_task()
    {
        var (_, prep) = TableModel.Load(tables.Classifier);
        await using (var server = await RunningServer.StartAsync(tables.Classifier))
        {
            var card = await Ok(await server.Client.GetAsync("api/model"));
            Assert.Equal("features", card.GetProperty("input").GetString());
            Assert.Equal("classification", card.GetProperty("task").GetString());
            Assert.Equal("label", card.GetProperty("target").GetString());
            Assert.Equal(["hi", "lo"], card.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal([5], card.GetProperty("inputShape").EnumerateArray().Select(e => e.GetInt32())); // x1, x2, three colours
            var columns = card.GetProperty("columns").EnumerateArray().ToArray();
            Assert.Equal(["x1", "x2", "colour"], columns.Select(c => c.GetProperty("name").GetString()));
            Assert.Equal(["numeric", "numeric", "categorical"], columns.Select(c => c.GetProperty("kind").GetString()));
            Assert.Equal(prep.Columns[0].Mean, columns[0].GetProperty("mean").GetDouble());
            Assert.Equal(prep.Columns[1].Mean, columns[1].GetProperty("mean").GetDouble());
            Assert.InRange(columns[0].GetProperty("mean").GetDouble(), -0.2, 0.2); // x1 is uniform on [−1, 1]
            Assert.Equal(["blue", "green", "red"], columns[2].GetProperty("categories").EnumerateArray().Select(e => e.GetString()));
            Assert.False(columns[2].TryGetProperty("mean", out _));
            Assert.False(card.GetProperty("metadata").TryGetProperty(TablePreprocessing.MetadataKey, out _));
        }
        await using (var server = await RunningServer.StartAsync(tables.Regressor))
        {
            var card = await Ok(await server.Client.GetAsync("api/model"));
            Assert.Equal("regression", card.GetProperty("task").GetString());
            Assert.Equal("value", card.GetProperty("target").GetString());
            Assert.Equal(0, card.GetProperty("classes").GetArrayLength());
            Assert.Equal(3, card.GetProperty("columns").GetArrayLength());
        }
    }

    public static TheoryData<string, string?, string, int, string, string> BadFeatures => new()
    {
        // name, content type, body, status, title, a phrase the detail must hold
        { "unknown column", "application/json", "{\"features\":{\"x1\":0,\"x2\":0,\"colour\":\"red\",\"height\":1}}", 400, "Unknown column",
            "the model has no input column 'height'; its input columns are 'x1', 'x2', 'colour'" },
        { "the target", "application/json", "{\"features\":{\"x1\":0,\"x2\":0,\"colour\":\"red\",\"label\":\"hi\"}}", 400, "Unknown column",
            "'label' is what the model predicts, not one of its inputs" },
        { "missing column", "application/json", "{\"features\":{\"x1\":0,\"colour\":\"red\"}}", 400, "Missing column", "no value for 'x2'" },
        { "duplicate column", "application/json", "{\"features\":{\"x1\":0,\"x1\":1,\"x2\":0,\"colour\":\"red\"}}", 400, "Duplicate column", "column 'x1' appears twice" },
        { "NaN as a string", "application/json", "{\"features\":{\"x1\":\"NaN\",\"x2\":0,\"colour\":\"red\"}}", 400, "Not a number",
            "column 'x1' is numeric; got the string \"NaN\", expected a number" },
        { "NaN", "application/json", "{\"features\":{\"x1\":NaN,\"x2\":0,\"colour\":\"red\"}}", 400, "Malformed JSON", "not valid JSON" },
        { "infinite", "application/json", "{\"features\":{\"x1\":0,\"x2\":1e400,\"colour\":\"red\"}}", 400, "Value not finite", "column 'x2' is not a finite number" },
        { "a boolean", "application/json", "{\"features\":{\"x1\":true,\"x2\":0,\"colour\":\"red\"}}", 400, "Not a number", "column 'x1' is numeric; got True" },
        { "null without --fill", "application/json", "{\"features\":{\"x1\":null,\"x2\":0,\"colour\":\"red\"}}", 400, "Missing value",
            "column 'x1' is null, but the model was trained without --fill" },
        { "unknown category", "application/json", "{\"features\":{\"x1\":0,\"x2\":0,\"colour\":\"purple\"}}", 400, "Unknown category",
            "column 'colour': 'purple' is not a category the model knows; its categories are 'blue', 'green', 'red'" },
        { "category as a number", "application/json", "{\"features\":{\"x1\":0,\"x2\":0,\"colour\":2}}", 400, "Not a category",
            "column 'colour' is categorical; send one of its categories as a string: 'blue', 'green', 'red'" },
        { "features not an object", "application/json", "{\"features\":[0,0,\"red\"]}", 400, "\"features\" is no object", "must be an object of column → value" },
        { "no features", "application/json", "{\"row\":{}}", 400, "Missing \"features\"", "no \"features\" property" },
        { "pixels", "application/json", "{\"pixels\":[0.5,0.5]}", 400, "Model takes features", "this is a table model" },
        { "not an object", "application/json", "[0.5]", 400, "Not a JSON object", "must be a JSON object" },
        { "malformed", "application/json", "{\"features\":{\"x1\":", 400, "Malformed JSON", "not valid JSON" },
        { "text", "text/plain", "x1=0", 415, "Unsupported content type", "content type is 'text/plain'; send application/json ({\"features\"" },
        { "no content type", null, "{}", 415, "Unsupported content type", "content type is missing" },
    };

    [Theory]
    [MemberData(nameof(BadFeatures))]
    public async Task Bad_features_get_a_problem_object_naming_the_column(string name, string? contentType, string body, int status, string title, string phrase)
    {
        await using var server = await RunningServer.StartAsync(tables.Classifier, instances: 1);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        await AssertProblem(await server.Client.PostAsync("api/predict", content), status, title, phrase, name);
    }

    [Fact]
    public async Task A_picture_or_an_oversized_body_sent_to_a_table_model_is_refused()
    {
        await using var server = await RunningServer.StartAsync(tables.Classifier, instances: 1);
        var upload = new MultipartFormDataContent { { new ByteArrayContent([0x89, (byte)'P', (byte)'N', (byte)'G']), "image", "x.png" } };
        await AssertProblem(await server.Client.PostAsync("api/predict", upload), 400, "Model takes no pictures", "this is a table model", "picture");
        string big = "{\"pad\":\"" + new string('a', ServeApp.MaxJsonBytes) + "\"," + Features(0, 0, "red")[1..];
        await AssertProblem(await server.Client.PostAsync("api/predict", Json(big)), 413, "Body too large", "larger than the 1,048,576 bytes", "big body");
    }

    [Fact]
    public async Task Features_sent_to_an_image_model_are_refused_naming_the_mismatch()
    {
        string path = _dir["mlp.npz"];
        var model = new Sequential<float>(new Linear<float>(784, 4, rng: new Rng(3)), new ReLU<float>(), new Linear<float>(4, 10, rng: new Rng(4)));
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        await using var server = await RunningServer.StartAsync(path, instances: 1);
        var card = await Ok(await server.Client.GetAsync("api/model"));
        Assert.Equal("pixels", card.GetProperty("input").GetString());
        Assert.False(card.TryGetProperty("columns", out _));
        await AssertProblem(await server.Client.PostAsync("api/predict", Json(Features(0, 0, "red"))), 400, "Model takes pixels",
            "this model takes {\"pixels\": [784 numbers]} (784, row-major), not \"features\"", "features to an image model");
    }

    [Fact]
    public async Task The_page_for_a_table_model_has_the_forms_hooks()
    {
        await using var server = await RunningServer.StartAsync(tables.Regressor, instances: 1);
        string html = await (await server.Client.GetAsync("")).Content.ReadAsStringAsync();
        Assert.Contains("<form id=\"features\"", html);
        Assert.Contains("<button id=\"predict\"", html);
        Assert.Contains("id=\"table-prediction\"", html);
        Assert.Contains("class=\"panel table-only\" hidden", html); // shown by the script for table models only
        Assert.DoesNotContain("://", html);
        string script = await (await server.Client.GetAsync("app.js")).Content.ReadAsStringAsync();
        Assert.Contains("if (card.columns)", script);
        Assert.Contains("JSON.stringify({ features })", script);
        Assert.Contains("getElementById(\"features\")", script);
        Assert.Contains("column.mean", script); // a numeric field starts at the training mean
        Assert.DoesNotContain("http", script);
    }

    private static async Task AssertProblem(HttpResponseMessage response, int status, string title, string phrase, string because)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{because}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(title, problem.GetProperty("title").GetString());
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.True(detail.Contains(phrase, StringComparison.Ordinal), $"{because}: the detail '{detail}' does not say '{phrase}'");
    }
}
