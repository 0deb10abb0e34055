using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using NeuralNet.Training;
using SkiaSharp;
using Xunit.Abstractions;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Cli;

/// <summary><c>nn predict</c> on pictures drawn or re-rendered by the test.</summary>
[Collection("Console")]
public sealed class PredictTests(MnistModel mnist, ITestOutputHelper output) : IDisposable, IClassFixture<MnistModel>
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An untrained 784→10 model that says it was trained on <paramref name="dataset"/>: enough to check the output's form.</summary>
    private string AnyModel(string dataset)
    {
        string path = _dir[$"{dataset}.npz"];
        Checkpoint.Save(path, new Sequential<float>(new Linear<float>(784, 10, rng: new Rng(4))), metadata: new Dictionary<string, string> { ["dataset"] = dataset });
        return path;
    }

    private static void Save(SKBitmap bitmap, string path, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var data = bitmap.Encode(format, 95);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A thick "1" in the left part of a 300×200 white picture.</summary>
    private static SKBitmap One() => Pictures.Draw(300, 200, SKColors.White, c => { using var pen = Pictures.Pen(SKColors.Black, 16); c.DrawLine(60, 30, 74, 165, pen); });

    /// <summary>A white "0" on black.</summary>
    private static SKBitmap Zero() => Pictures.Draw(200, 300, SKColors.Black, c => { using var pen = Pictures.Pen(SKColors.White, 14); c.DrawOval(110, 140, 45, 80, pen); });

    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    [Fact]
    public void Json_gives_file_prediction_label_all_probabilities_and_the_top_three_per_picture()
    {
        using (var one = One()) Save(one, _dir["pics/one.png"]);
        using (var zero = Zero()) Save(zero, _dir["pics/zero.jpg"], SKEncodedImageFormat.Jpeg);
        var (code, stdout, err) = CliTests.Run("predict", "--model", AnyModel("mnist"), _dir["pics/one.png"], _dir["pics/zero.jpg"], "--json");
        Assert.True(code == 0, err);
        var lines = JsonLines(stdout);
        Assert.Equal(2, lines.Length);
        Assert.Equal([_dir["pics/one.png"], _dir["pics/zero.jpg"]], lines.Select(l => l.GetProperty("file").GetString()));
        foreach (var line in lines)
        {
            double[] p = line.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(10, p.Length);
            Assert.Equal(1.0, p.Sum(), 9);
            Assert.All(p, v => Assert.InRange(v, 0, 1));
            int prediction = line.GetProperty("prediction").GetInt32();
            Assert.Equal(Array.IndexOf(p, p.Max()), prediction);
            Assert.Equal(prediction.ToString(), line.GetProperty("label").GetString());
            var top = line.GetProperty("top3").EnumerateArray().ToArray();
            Assert.Equal(3, top.Length);
            Assert.Equal(line.GetProperty("label").GetString(), top[0].GetProperty("label").GetString());
            var expected = p.Select((v, c) => (v, c)).OrderByDescending(t => t.v).Take(3).ToArray();
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(expected[k].c.ToString(), top[k].GetProperty("label").GetString());
                Assert.Equal(expected[k].v, top[k].GetProperty("probability").GetDouble());
            }
        }

        (code, stdout, err) = CliTests.Run("predict", "--model", AnyModel("mnist"), _dir["pics/one.png"]);
        Assert.True(code == 0, err);
        Assert.StartsWith(_dir["pics/one.png"] + ": ", stdout);
        Assert.Equal(3, stdout.Count(ch => ch == '%'));
    }

    [Fact]
    public void A_missing_or_broken_picture_among_good_ones_gets_an_error_line_and_exit_1_while_the_others_are_predicted()
    {
        using var one = One();
        Save(one, _dir["good.png"]);
        File.WriteAllBytes(_dir["good.bmp"], Pictures.Bmp(one));
        File.WriteAllText(_dir["notes.png"], "not a picture");
        byte[] png = File.ReadAllBytes(_dir["good.png"]);
        File.WriteAllBytes(_dir["cut.png"], png[..(png.Length / 3)]);
        using (var blank = Pictures.Draw(40, 40, SKColors.White, _ => { })) Save(blank, _dir["blank.png"]);
        string[] files = [_dir["good.png"], _dir["missing.png"], _dir["notes.png"], _dir["cut.png"], _dir["blank.png"], _dir["good.bmp"]];

        var (code, stdout, _) = CliTests.Run(["predict", "--model", AnyModel("mnist"), "--json", .. files]);
        Assert.Equal(1, code);
        var lines = JsonLines(stdout);
        Assert.Equal(files, lines.Select(l => l.GetProperty("file").GetString()));
        string Error(int i) => lines[i].GetProperty("error").GetString()!;
        Assert.Contains("missing.png: file not found", Error(1));
        Assert.Contains("notes.png: not a picture", Error(2));
        Assert.Contains("cut.png", Error(3));
        Assert.Contains("uniform", Error(4));
        foreach (int i in new[] { 0, 5 }) Assert.False(lines[i].TryGetProperty("error", out _));
        // the BMP holds the PNG's pixels: the same prediction, the same probabilities
        Assert.Equal(lines[0].GetProperty("probabilities").GetRawText(), lines[5].GetProperty("probabilities").GetRawText());

        var (code2, _, err) = CliTests.Run("predict", "--model", AnyModel("mnist"), _dir["good.png"], _dir["missing.png"]);
        Assert.Equal(1, code2);
        Assert.Contains("error: " + _dir["missing.png"] + ": file not found", err);
    }

    [Fact]
    public void Save_preprocessed_writes_the_28_by_28_pictures_the_network_saw()
    {
        using var one = One();
        Save(one, _dir["a/one.png"]);
        Save(one, _dir["b/one.png"]);
        string saved = _dir["seen"];
        var (code, _, err) = CliTests.Run("predict", "--model", AnyModel("mnist"), _dir["a/one.png"], _dir["b/one.png"], "--save-preprocessed", saved, "--json");
        Assert.True(code == 0, err);
        var seen = GreyImage.Read(Path.Combine(saved, "one.png"));
        Assert.Equal((28, 28), (seen.Width, seen.Height));
        Assert.True(File.Exists(Path.Combine(saved, "one-2.png")), "the second one.png overwrote the first");
        float[] expected = ImagePreprocessing.MnistDigit(GreyImage.Read(_dir["a/one.png"]).Pixels, 300, 200);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(Math.Round(expected[i] * 255), Math.Round(seen.Pixels[i] * 255));
    }

    [Fact]
    public void A_fashion_model_names_fashion_classes_and_sees_the_item_fitted_light_on_dark()
    {
        using (var shirt = Pictures.Draw(300, 240, SKColors.White, c => c.DrawRect(50, 20, 200, 150, new SKPaint { Color = new SKColor(40, 60, 120) })))
            Save(shirt, _dir["shirt.png"]);
        var (code, stdout, err) = CliTests.Run("predict", "--model", AnyModel("fashion-mnist"), _dir["shirt.png"], "--json", "--save-preprocessed", _dir["seen"]);
        Assert.True(code == 0, err);
        var line = JsonLines(stdout).Single();
        Assert.Equal(Mnist.FashionClassNames[line.GetProperty("prediction").GetInt32()], line.GetProperty("label").GetString());
        var seen = GreyImage.Read(_dir["seen/shirt.png"]);
        Assert.Equal((0, 4, 28, 21), Pictures.InkBox(seen.Pixels)); // 200×150 → 28×21, centred, the odd pixel of slack above
        Assert.True(seen.Pixels[14 * 28 + 14] > 0.6f, "the item is not light");
    }

    [Fact]
    public void The_input_shape_comes_from_the_first_layer_and_decides_how_pictures_are_prepared()
    {
        var mlp = ModelFactory.Build("mlp", 784, 10, [32], InitFns.HeNormal(), 1);
        var cnn = ModelFactory.Build("cnn", 784, 10, [], InitFns.HeNormal(), 1, fast: true);
        Assert.Equal([784], ModelInput.Shape(mlp));
        Assert.Equal([1, 28, 28], ModelInput.Shape(cnn));
        Assert.Equal([1, 12, 12], ModelInput.Shape(cnn, stored: [1, 12, 12])); // a shape saved with the checkpoint wins
        Assert.Equal(PreparationKind.MnistDigit, ModelInput.For([784], "mnist").Kind);
        Assert.Equal(PreparationKind.MnistDigit, ModelInput.For([1, 28, 28], null).Kind);
        Assert.Equal(PreparationKind.FashionItem, ModelInput.For([1, 28, 28], "fashion-mnist").Kind);
        var small = ModelInput.For([100], "mnist");
        Assert.Equal((PreparationKind.Resize, 10, 10), (small.Kind, small.Height, small.Width));
        Assert.Contains("50 features", Assert.Throws<CliException>(() => ModelInput.For([50], null)).Message);
        Assert.Contains("3-channel", Assert.Throws<CliException>(() => ModelInput.For([3, 32, 32], null)).Message);
    }

    [Fact]
    public void A_drawn_one_is_a_1_and_mnist_test_digits_drawn_large_and_dark_on_light_keep_their_predictions()
    {
        if (mnist.File is null) return; // needs NN_DATA
        using (var one = One()) Save(one, _dir["one.png"]);
        using (var zero = Zero()) Save(zero, _dir["zero.png"]);
        var (code, stdout, err) = CliTests.Run("predict", "--model", mnist.File, _dir["one.png"], _dir["zero.png"], "--json");
        Assert.True(code == 0, err);
        Assert.Equal(["1", "0"], JsonLines(stdout).Select(l => l.GetProperty("label").GetString()));

        // Test digits scaled up 3–5× with smooth sampling, set at random places on wider paper, three in four inverted to
        // dark on light, written as PNG; nn predict has to undo all of it.
        const int n = 400;
        var test = Mnist.Load(mnist.Folder!, train: false).Take(n);
        int[] original = Trainer.Predict(mnist.Model!, test.Features);
        var rng = new Rng(17);
        var files = new string[n];
        for (int i = 0; i < n; i++)
        {
            int scale = 3 + rng.NextInt(3), side = 28 * scale;
            int left = 5 + rng.NextInt(60), top = 5 + rng.NextInt(60);
            bool darkOnLight = i % 4 != 0;
            using var digit = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
            var row = test.Features.Row(i);
            for (int p = 0; p < 784; p++)
            {
                byte v = (byte)Math.Round(row[p] * 255);
                digit.SetPixel(p % 28, p / 28, darkOnLight ? new SKColor((byte)(255 - v), (byte)(255 - v), (byte)(255 - v)) : new SKColor(v, v, v));
            }
            using var image = SKImage.FromBitmap(digit);
            using var picture = Pictures.Draw(left + side + 5 + rng.NextInt(60), top + side + 5 + rng.NextInt(60), darkOnLight ? SKColors.White : SKColors.Black,
                c => c.DrawImage(image, SKRect.Create(left, top, side, side), new SKSamplingOptions(SKCubicResampler.Mitchell)));
            Save(picture, files[i] = _dir[$"digits/{i:000}.png"]);
        }
        (code, stdout, err) = CliTests.Run(["predict", "--model", mnist.File, "--json", .. files]);
        Assert.True(code == 0, err);
        int[] redrawn = JsonLines(stdout).Select(l => l.GetProperty("prediction").GetInt32()).ToArray();
        int same = original.Zip(redrawn).Count(t => t.First == t.Second);
        int rightBefore = original.Zip(test.Labels).Count(t => t.First == t.Second);
        int rightAfter = redrawn.Zip(test.Labels).Count(t => t.First == t.Second);
        output.WriteLine($"{same} of {n} redrawn test digits kept their prediction; correct: {rightBefore} of the originals, {rightAfter} of the redrawn");
        Assert.True(same >= 0.95 * n, $"only {same} of {n} redrawn digits kept their prediction");
    }
}
