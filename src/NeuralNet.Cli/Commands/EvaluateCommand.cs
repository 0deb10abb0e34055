using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Plots;
using NeuralNet.Data;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Training;
using Spectre.Console;

namespace NeuralNet.Cli.Commands;

/// <summary><c>nn evaluate</c>: reloads a checkpoint and reports test loss, accuracy, per-class figures and the confusion matrix.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint written by nn train or nn import (.npz or safetensors, recognized by content)", Required = true };
        var dataset = new Option<string?>("--dataset") { Description = "mnist or fashion-mnist (default: the one the model was trained on)" };
        var data = new Option<string?>("--data") { Description = "Folder holding mnist/ and fashion-mnist/" };
        var json = new Option<bool>("--json") { Description = "Print only {\"test_accuracy\":…, \"test_loss\":…, \"n\":…} on stdout" };
        var output = new Option<string?>("--output") { Description = "Folder for confusion_matrix.png and misclassified.png (default: beside the checkpoint's folder)" };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N test images" };
        var threads = new Option<int>("--threads") { Description = "Threads for the kernels", DefaultValueFactory = _ => Environment.ProcessorCount };
        var csv = new Option<string?>("--csv") { Description = "Evaluate a model nn train --csv wrote on this CSV table (it must hold the target column)", HelpName = "FILE" };
        var images = new Option<string?>("--images") { Description = "Evaluate a model nn train --images wrote on a folder with one subfolder per class (its test/ when there is one)", HelpName = "DIR" };
        var cmd = new Command("evaluate", "Evaluate a saved model on the test set.");
        foreach (var o in new Option[] { model, dataset, data, json, output, limit, threads, csv, images }) cmd.Options.Add(o);
        cmd.SetAction(p => Cli.Guard(() =>
            (p.GetValue(csv) is not null ? 1 : 0) + (p.GetValue(images) is not null ? 1 : 0) + (p.GetValue(dataset) is not null ? 1 : 0) > 1
            ? throw new CliException("--csv, --images and --dataset exclude each other")
            : p.GetValue(images) is string folder ? Images.ImageModel.Evaluate(p.GetValue(model)!, folder, p.GetValue(json), p.GetValue(output))
            : p.GetValue(csv) is string table
            ? Tables.TableModel.Evaluate(p.GetValue(model)!, table, p.GetValue(json), p.GetValue(output))
            : Run(p.GetValue(model)!, p.GetValue(dataset), p.GetValue(data), p.GetValue(json), p.GetValue(output), p.GetValue(limit), p.GetValue(threads))));
        return cmd;
    }

    public static int Run(string modelPath, string? dataset, string? dataFolder, bool json, string? output, int? limit, int threads)
    {
        if (!File.Exists(modelPath)) throw new CliException($"model file not found: {modelPath}", 1);
        if (threads < 1) throw new CliException($"--threads must be ≥ 1, got {threads}");
        TensorOps.Threads = threads;
        Module<float> model;
        IReadOnlyDictionary<string, string> meta;
        int[]? inputShape;
        try
        {
            model = Checkpoint.Load<float>(modelPath);
            meta = Checkpoint.ReadMetadata(modelPath);
            inputShape = Checkpoint.ReadInputShape(modelPath);
        }
        catch (Exception e) when (e is InvalidDataException or NeuralNet.Tensors.ShapeMismatchException or KeyNotFoundException)
        {
            throw new CliException(e.Message, 1);
        }
        string ds = dataset ?? (meta.TryGetValue("dataset", out var d) ? d : "mnist");
        bool images = ModelFactory.WantsImages(model, inputShape);
        var test = DataSource.LoadTest(ds, dataFolder, limit, quiet: json, images);
        var metrics = Trainer.Evaluate(model, new CrossEntropyLoss<float>(), test, ModelFactory.EvaluationBatch(model));

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { test_accuracy = metrics.Accuracy, test_loss = metrics.Loss, n = metrics.Count }, CliJson.Compact));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{modelPath} on {ds} test ({metrics.Count} images): accuracy {metrics.Accuracy:P2}, loss {metrics.Loss:F4}"));
            var table = new Table().AddColumns("class", "precision", "recall", "F1");
            for (int c = 0; c < metrics.Precision.Length; c++)
                table.AddRow(Markup.Escape(test.ClassNames[c]), metrics.Precision[c].ToString("F4", CultureInfo.InvariantCulture),
                    metrics.Recall[c].ToString("F4", CultureInfo.InvariantCulture), metrics.F1[c].ToString("F4", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            var confusion = new Table().AddColumn("true \\ predicted");
            for (int c = 0; c < test.NumClasses; c++) confusion.AddColumn(c.ToString(CultureInfo.InvariantCulture));
            for (int r = 0; r < test.NumClasses; r++)
                confusion.AddRow(new[] { Markup.Escape(test.ClassNames[r]) }.Concat(Enumerable.Range(0, test.NumClasses).Select(c => metrics.Confusion[r, c].ToString(CultureInfo.InvariantCulture))).ToArray());
            AnsiConsole.Write(confusion);
        }

        string folder = output ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(modelPath))!) ?? ".", "evaluation");
        if (model is Sequential<float> seq) WriteEvaluationFigures(folder, metrics, seq, test);
        if (!json) Console.WriteLine($"figures: {folder}/");
        return 0;
    }

    public static void WriteEvaluationFigures(string output, Metrics metrics, Module<float> model, Dataset<float> test)
    {
        Directory.CreateDirectory(output);
        Figures.ConfusionMatrix(metrics.Confusion, test.ClassNames, Path.Combine(output, "confusion_matrix.png"));
        var predicted = Trainer.Predict(model, test.Features, ModelFactory.EvaluationBatch(model));
        Figures.Misclassified(test.Features, test.Labels, predicted, test.ClassNames, Path.Combine(output, "misclassified.png"));
    }
}
