using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Commands;

/// <summary>
/// <c>nn predict --model MODEL IMAGE…</c>: classifies pictures of any size, colour or grey, after preparing them the
/// way the model's training images were made (<see cref="ModelInput"/>, <see cref="ImagePreprocessing"/>).
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint (.npz or safetensors) written by nn train or nn export", Required = true };
        var images = new Argument<string[]>("images") { Description = "Pictures to classify (PNG, JPEG, BMP, …)", Arity = ArgumentArity.ZeroOrMore };
        var csv = new Option<string?>("--csv") { Description = "Predict every row of a CSV table with a model nn train --csv wrote: the rows plus a prediction column (and p_CLASS probabilities for classification)", HelpName = "FILE" };
        var output = new Option<string?>("--output", "-o") { Description = "--csv: write the table here instead of to stdout", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "One JSON object per picture and line: file, prediction, label, probabilities, top3 (or file and error)" };
        var save = new Option<string?>("--save-preprocessed") { Description = "Folder for PNGs of what the network saw (28×28 for MNIST-style models)", HelpName = "DIR" };
        var dataset = new Option<string?>("--dataset") { Description = "mnist or fashion-mnist: the class names and how pictures are prepared (default: the one the model was trained on)" };
        var threads = new Option<int>("--threads") { Description = "Threads for the kernels", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("predict", "Classify pictures with a saved model; each is prepared like the model's training images (an MNIST model's digit: ink cropped, scaled to 20 px, centred by mass in 28×28).");
        cmd.Arguments.Add(images);
        foreach (var o in new Option[] { model, json, save, dataset, threads, csv, output }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() =>
            p.GetValue(csv) is string table
                ? (p.GetValue(images)!.Length > 0 ? throw new CliException("give either pictures or --csv, not both") : Tables.TableModel.Predict(p.GetValue(model)!, table, p.GetValue(output)))
                : p.GetValue(images)!.Length == 0 ? throw new CliException("nothing to predict: give pictures, or --csv FILE")
                : File.Exists(p.GetValue(model)!) && Images.ImageModel.Info(p.GetValue(model)!) is not null ? Images.ImageModel.Predict(p.GetValue(model)!, p.GetValue(images)!, p.GetValue(json))
                : Run(p.GetValue(model)!, p.GetValue(images)!, p.GetValue(json), p.GetValue(save), p.GetValue(dataset), p.GetValue(threads))));
        return cmd;
    }

    /// <summary>The three most probable classes are shown.</summary>
    private const int Top = 3;

    public static int Run(string modelPath, IReadOnlyList<string> files, bool json, string? saveFolder, string? dataset, int threads)
    {
        if (!File.Exists(modelPath)) throw new CliException($"model file not found: {modelPath}", 1);
        if (threads < 1) throw new CliException($"--threads must be ≥ 1, got {threads}");
        if (dataset is not null && !Mnist.KnownDatasets.Contains(dataset))
            throw new CliException($"unknown dataset '{dataset}' (known: {string.Join(", ", Mnist.KnownDatasets)})");
        TensorOps.Threads = threads;
        Module<float> net;
        IReadOnlyDictionary<string, string> meta;
        int[]? storedShape;
        try
        {
            net = Checkpoint.Load<float>(modelPath);
            meta = Checkpoint.ReadMetadata(modelPath);
            storedShape = Checkpoint.ReadInputShape(modelPath);
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException)
        {
            throw new CliException(e.Message, 1);
        }
        string? ds = dataset ?? (meta.TryGetValue("dataset", out var d) && Mnist.KnownDatasets.Contains(d) ? d : null);
        var preparation = ModelInput.For(ModelInput.Shape(net, storedShape), ds);

        // Decode and prepare every picture; one that fails is reported in its place and the others still run.
        var prepared = new float[files.Count][];
        var errors = new string?[files.Count];
        var savedNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            try
            {
                prepared[i] = preparation.Apply(GreyImage.Read(files[i]));
            }
            catch (InvalidDataException e)
            {
                errors[i] = e.Message;
                continue;
            }
            catch (ArgumentException e)
            {
                errors[i] = $"{files[i]}: {e.Message}";
                continue;
            }
            if (saveFolder is not null)
                GreyImage.WritePng(Path.Combine(saveFolder, UniqueName(files[i], savedNames)), prepared[i], preparation.Width, preparation.Height);
        }

        var probabilities = Classify(net, preparation, prepared);
        int classes = probabilities.FirstOrDefault(p => p is not null)?.Length ?? 0;
        var names = ds is not null && Mnist.ClassNamesOf(ds).Count == classes
            ? Mnist.ClassNamesOf(ds)
            : Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();

        for (int i = 0; i < files.Count; i++)
        {
            if (errors[i] is string error)
            {
                if (json) Console.Out.WriteLine(JsonSerializer.Serialize(new { file = files[i], error }, CliJson.Compact));
                else Console.Error.WriteLine($"error: {error}");
                continue;
            }
            double[] p = probabilities[i]!;
            int[] order = Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).ThenBy(c => c).ToArray();
            var top = order.Take(Top).Select(c => new { label = names[c], probability = p[c] }).ToArray();
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { file = files[i], prediction = order[0], label = names[order[0]], probabilities = p, top3 = top }, CliJson.Compact));
            }
            else
            {
                Console.Out.WriteLine($"{files[i]}: " + string.Join("  ", top.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.label} {t.probability:P1}"))));
            }
        }
        if (!json && saveFolder is not null) Console.Out.WriteLine($"prepared as: {preparation}; what the network saw: {saveFolder}/");
        return errors.Any(e => e is not null) ? 1 : 0;
    }

    /// <summary>softmax(logits) of every prepared picture (null where it failed), in evaluation mode, a batch at a time.</summary>
    private static double[]?[] Classify(Module<float> net, Preparation preparation, float[]?[] prepared)
    {
        const int batchSize = 256;
        var result = new double[]?[prepared.Length];
        int[] ok = Enumerable.Range(0, prepared.Length).Where(i => prepared[i] is not null).ToArray();
        int sampleLength = preparation.SampleShape.Aggregate(1, (a, b) => a * b);
        net.Eval();
        for (int start = 0; start < ok.Length; start += batchSize)
        {
            int n = Math.Min(batchSize, ok.Length - start);
            var x = new Tensor<float>([n, .. preparation.SampleShape]);
            for (int k = 0; k < n; k++) prepared[ok[start + k]]!.CopyTo(x.Span.Slice(k * sampleLength, sampleLength));
            var logits = net.Forward(x);
            if (logits.Rank != 2 || logits.Shape[0] != n)
                throw new CliException($"the model gives {logits.Shape} for {n} pictures; expected one row of class scores per picture", 1);
            for (int k = 0; k < n; k++) result[ok[start + k]] = Softmax(logits.Row(k));
        }
        return result;
    }

    /// <summary>pᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z), in double precision.</summary>
    internal static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z);
        var p = new double[logits.Length];
        double sum = 0;
        for (int c = 0; c < p.Length; c++) sum += p[c] = Math.Exp(logits[c] - max);
        for (int c = 0; c < p.Length; c++) p[c] /= sum;
        return p;
    }

    /// <summary>"NAME.png" for a picture's file name, "NAME-2.png" (and so on) when another picture already took it.</summary>
    private static string UniqueName(string file, HashSet<string> taken)
    {
        string stem = Path.GetFileNameWithoutExtension(file);
        string name = stem + ".png";
        for (int k = 2; !taken.Add(name); k++) name = $"{stem}-{k}.png";
        return name;
    }
}
