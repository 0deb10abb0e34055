using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Plots;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Images;

/// <summary><c>nn evaluate --images DIR</c> and <c>nn predict IMAGE…</c> for a model nn train --images wrote.</summary>
internal static class ImageModel
{
    /// <summary>The stored image preprocessing of <paramref name="path"/>, or null for other models.</summary>
    public static ImagePreprocessingInfo? Info(string path)
    {
        try
        {
            return Checkpoint.ReadMetadata(path).TryGetValue(ImagePreprocessingInfo.MetadataKey, out var json) ? ImagePreprocessingInfo.FromJson(json, path) : null;
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message, 1);
        }
    }

    private static (Module<float>, ImagePreprocessingInfo) Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"model file not found: {path}", 1);
        var info = Info(path) ?? throw new CliException($"{path} was not trained on an image folder (nn train --images): it stores no class names and picture size", 1);
        try
        {
            return (Checkpoint.Load<float>(path), info);
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException)
        {
            throw new CliException(e.Message, 1);
        }
    }

    /// <summary>Evaluates on DIR/test when it exists, else on every picture in DIR's class folders.</summary>
    public static int Evaluate(string modelPath, string dir, bool json, string? output)
    {
        var (model, info) = Load(modelPath);
        string root = Directory.Exists(Path.Combine(dir, "test")) ? Path.Combine(dir, "test") : dir;
        var folder = ImageFolder.Scan(root, info.Classes);
        if (folder.Unreadable.Count > 0 && !json)
            Console.Error.WriteLine($"skipped {folder.Unreadable.Count} unreadable file{(folder.Unreadable.Count == 1 ? "" : "s")}: {string.Join(", ", folder.Unreadable)}");
        var data = folder.Load(Enumerable.Range(0, folder.Files.Count).ToArray(), info);
        var metrics = Trainer.Evaluate(model, new CrossEntropyLoss<float>(), data, 128, info.Classes.Length);
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(ImageTrainer.Report(metrics, info), CliJson.Compact));
            return 0;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{modelPath} on {root} ({metrics.Count} pictures): accuracy {metrics.Accuracy:P2}, loss {metrics.Loss:F4}"));
        Console.Write(metrics.PerClassTable(info.Classes));
        string figures = output ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(modelPath))!) ?? ".", "evaluation");
        Figures.ConfusionMatrix(metrics.Confusion, info.Classes, Path.Combine(figures, "confusion_matrix.png"));
        Console.WriteLine($"figures: {figures}/");
        return 0;
    }

    /// <summary>Each picture stretched to the model's size and channels; prints the three most probable classes (or JSON lines).</summary>
    public static int Predict(string modelPath, IReadOnlyList<string> files, bool json)
    {
        var (model, info) = Load(modelPath);
        model.Eval();
        int failures = 0;
        foreach (string file in files)
        {
            float[] pixels;
            try
            {
                if (!File.Exists(file)) throw new InvalidDataException($"{file}: file not found");
                pixels = FolderImage.Read(file, info.Width, info.Height).Channels(info.Channels);
            }
            catch (InvalidDataException e)
            {
                failures++;
                if (json) Console.Out.WriteLine(JsonSerializer.Serialize(new { file, error = e.Message }, CliJson.Compact));
                else Console.Error.WriteLine($"error: {e.Message}");
                continue;
            }
            var logits = model.Forward(Tensor<float>.FromArray(pixels, [1, .. info.SampleShape]));
            ReadOnlySpan<float> z = logits.Row(0);
            float max = z[Trainer.ArgMax(z)];
            var p = new double[z.Length];
            double sum = 0;
            for (int c = 0; c < p.Length; c++) sum += p[c] = Math.Exp(z[c] - max);
            for (int c = 0; c < p.Length; c++) p[c] /= sum;
            var top = Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).ThenBy(c => c).Take(3).Select(c => new { label = info.Classes[c], probability = p[c] }).ToArray();
            if (json) Console.Out.WriteLine(JsonSerializer.Serialize(new { file, label = top[0].label, probabilities = p, top3 = top }, CliJson.Compact));
            else Console.Out.WriteLine($"{file}: " + string.Join("  ", top.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.label} {t.probability:P1}"))));
        }
        return failures > 0 ? 1 : 0;
    }
}
