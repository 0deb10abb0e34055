using System.Text.Json;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using SkiaSharp;
using static NeuralNet.Tests.Cli.CliTests;

namespace NeuralNet.Tests.Images;

/// <summary><c>nn train/evaluate/predict</c> on folders of pictures (one subfolder per class) the tests draw.</summary>
[Collection("Console")]
public sealed class ImageFolderCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Writes <paramref name="perClass"/> pictures of each shape: "disc" (a filled circle), "ring" (a circle's outline),
    /// "bar" (a thick horizontal bar), at random places and sizes; every fifth picture is 30×20 (stretched when loaded),
    /// the rest 24×24. Colour pictures use a random hue; grey ones white on black.
    /// </summary>
    private static void DrawShapes(string root, int perClass, bool colour, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (string shape in new[] { "disc", "ring", "bar" })
        {
            Directory.CreateDirectory(Path.Combine(root, shape));
            for (int i = 0; i < perClass; i++)
            {
                int w = i % 5 == 4 ? 30 : 24, h = i % 5 == 4 ? 20 : 24;
                var ink = colour ? SKColor.FromHsv((float)rng.NextDouble(0, 360), 90, 95) : SKColors.White;
                float cx = (float)rng.NextDouble(0.4, 0.6) * w, cy = (float)rng.NextDouble(0.4, 0.6) * h, r = (float)rng.NextDouble(0.25, 0.35) * Math.Min(w, h);
                using var bitmap = Pictures.Draw(w, h, SKColors.Black, canvas =>
                {
                    using var fill = new SKPaint { Color = ink, IsAntialias = true, Style = SKPaintStyle.Fill };
                    using var pen = Pictures.Pen(ink, 2);
                    if (shape == "disc") canvas.DrawCircle(cx, cy, r, fill);
                    else if (shape == "ring") canvas.DrawCircle(cx, cy, r, pen);
                    else canvas.DrawRect(cx - r, cy - r / 3, 2 * r, 2 * r / 3, fill);
                });
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, shape, $"{i:D3}.png"), data.ToArray());
            }
        }
    }

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    [Fact]
    public void A_colour_folder_is_split_trained_on_evaluated_and_predicted()
    {
        string root = _dir["shapes"];
        DrawShapes(root, 30, colour: true, seed: 1);
        File.WriteAllText(Path.Combine(root, "disc", "notes.txt"), "not a picture");
        File.WriteAllBytes(Path.Combine(root, "ring", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        string output = _dir["run"];
        var (code, stdout, err) = Run("train", "--images", root, "--epochs", "8", "--output", output, "--seed", "2", "--lr", "0.003");
        Assert.True(code == 0, err);
        Assert.Contains("skipped 2 unreadable files", err, StringComparison.Ordinal);
        Assert.Contains("broken.png", err, StringComparison.Ordinal);
        Assert.Contains("3 classes (bar, disc, ring); 3 channels, 24×24", stdout, StringComparison.Ordinal);
        var m = Json(Path.Combine(output, "metrics.json"));
        Assert.Equal(["bar", "disc", "ring"], m.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!));
        Assert.Equal(2, m.GetProperty("skipped_files").GetInt32());
        Assert.Equal(18, m.GetProperty("test_samples").GetInt32()); // 20% of 30 per class
        double accuracy = m.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.8, $"test accuracy {accuracy}");
        Assert.True(File.Exists(Path.Combine(output, "confusion_matrix.png")));

        string model = Path.Combine(output, "checkpoints", "best_model.npz");
        (code, stdout, err) = Run("evaluate", "--model", model, "--images", root, "--json");
        Assert.True(code == 0, err);
        var e = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(90, e.GetProperty("test_samples").GetInt32());
        Assert.True(e.GetProperty("test_accuracy").GetDouble() >= 0.8);

        (code, stdout, err) = Run("predict", "--model", model, "--json", Path.Combine(root, "bar", "000.png"), Path.Combine(root, "disc", "004.png"));
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Equal(1.0, l.GetProperty("probabilities").EnumerateArray().Sum(p => p.GetDouble()), 6));
        Assert.Equal("bar", lines[0].GetProperty("label").GetString());
    }

    [Fact]
    public void Train_and_test_folders_are_the_splits_and_grey_pictures_give_one_channel()
    {
        string root = _dir["grey"];
        DrawShapes(Path.Combine(root, "train"), 15, colour: false, seed: 3);
        DrawShapes(Path.Combine(root, "test"), 4, colour: false, seed: 4);
        string output = _dir["run2"];
        var (code, stdout, err) = Run("train", "--images", root, "--epochs", "1", "--output", output, "--image-size", "16x12", "--no-figures");
        Assert.True(code == 0, err);
        Assert.Contains("1 channel, 16×12", stdout, StringComparison.Ordinal);
        Assert.Contains("(train/ and test/ folders)", stdout, StringComparison.Ordinal);
        Assert.Equal(12, Json(Path.Combine(output, "metrics.json")).GetProperty("test_samples").GetInt32());
        Assert.Equal([1, 12, 16], NeuralNet.Checkpoints.Checkpoint.ReadInputShape(Path.Combine(output, "checkpoints", "best_model.npz"))!);
    }

    [Fact]
    public void Bad_image_folders_are_refused_in_one_line()
    {
        string flat = _dir["flat"];
        Directory.CreateDirectory(flat);
        var (code, _, err) = Run("train", "--images", flat, "--output", _dir["x"]);
        Assert.Equal(1, code);
        Assert.Contains("no subfolders", err, StringComparison.Ordinal);
        (code, _, err) = Run("train", "--images", flat, "--csv", "t.csv", "--target", "y", "--output", _dir["x"]);
        Assert.Equal(2, code);
        Assert.Contains("--csv and --images exclude each other", err, StringComparison.Ordinal);
        (code, _, err) = Run("train", "--images", flat, "--image-size", "0", "--output", _dir["x"]);
        Assert.NotEqual(0, code);
    }
}
