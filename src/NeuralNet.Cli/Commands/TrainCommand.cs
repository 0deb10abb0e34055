using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Plots;
using NeuralNet.Data;
using NeuralNet.GradCheck.Bugs;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Layers;
using NeuralNet.Tensors;
using NeuralNet.Optim.Schedules;
using NeuralNet.Training;
using Spectre.Console;

namespace NeuralNet.Cli.Commands;

/// <summary>Everything <c>nn train</c> needs; also used by the experiments.</summary>
internal sealed record TrainSettings
{
    public string Dataset { get; init; } = "mnist";
    public string Model { get; init; } = "mlp";
    public int[] Hidden { get; init; } = [128, 64];
    public string Optimizer { get; init; } = "adam";
    public double? LearningRate { get; init; }
    public double WeightDecay { get; init; }
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 128;
    public string Init { get; init; } = "he";
    public ulong Seed { get; init; } = 42;
    public string Output { get; init; } = "outputs";
    public int Threads { get; init; } = Environment.ProcessorCount;
    public int? Patience { get; init; } = 5;
    public string? DataFolder { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    public int? Limit { get; init; }
    public bool Quiet { get; init; }
    public bool Figures { get; init; } = true;
    public string Schedule { get; init; } = "cosine";
    public double LabelSmoothing { get; init; } = 0.1;
    public int Shift { get; init; }
    public bool Fast { get; init; }
    /// <summary>A deliberately wrong backward pass to train with (<see cref="NeuralNet.GradCheck.Bugs.BackwardBug"/>), or null.</summary>
    public string? Bug { get; init; }
    /// <summary>With <see cref="Bug"/>: train the bug's model with correct layers instead.</summary>
    public bool Control { get; init; }

    /// <summary>A checkpoint to start from (fine-tuning): its architecture and weights replace <see cref="Model"/>'s fresh network.</summary>
    public string? From { get; init; }

    /// <summary>A CSV table to train on (instead of --dataset), with the column to predict.</summary>
    public string? Csv { get; init; }

    public string? Target { get; init; }

    public string[] Ignore { get; init; } = [];

    /// <summary>"classification", "regression", or null to decide from the target column.</summary>
    public string? Task { get; init; }

    public double TestFraction { get; init; } = 0.2;

    /// <summary>A CSV file that is the test set (instead of --test-fraction).</summary>
    public string? TestFile { get; init; }

    /// <summary>"mean", "median", "mode", or null to refuse missing values.</summary>
    public string? Fill { get; init; }

    /// <summary>Regression loss: "mse" or "huber" (null: mse).</summary>
    public string? Loss { get; init; }

    /// <summary>A folder of pictures, one subfolder per class (instead of --dataset).</summary>
    public string? Images { get; init; }

    /// <summary>"N" or "WxH", or null for the most common size.</summary>
    public string? ImageSize { get; init; }

    /// <summary>1 or 3, or null: 3 when any picture has colour.</summary>
    public int? Channels { get; init; }

    /// <summary>--model FILE.json: an architecture to build instead of a built-in model.</summary>
    public string? ModelFile { get; init; }
}

/// <summary>
/// The settings <c>--fast</c> changes, unless given on the command line: the small CNN of <see cref="ModelFactory"/>,
/// a few epochs under a one-cycle schedule with a high peak rate, no early stopping.
/// </summary>
internal static class FastPreset
{
    public const int Epochs = 2;
    public const double LearningRate = 8e-3;
    public const string Schedule = "onecycle";
}

/// <summary><c>nn train</c>: trains a model, evaluates it on the test set, writes the checkpoint, history, metrics and figures.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "mnist or fashion-mnist", DefaultValueFactory = _ => "mnist" };
        var model = new Option<string>("--model") { Description = "Model: mlp (784→hidden→10, ReLU), cnn (two conv–BN–ReLU–maxpool blocks, 128-unit head with dropout), or FILE.json: an architecture in the checkpoints' JSON format", DefaultValueFactory = _ => "mlp" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes of the MLP", DefaultValueFactory = _ => "128,64" };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, adamw, sgd, momentum, nesterov or rmsprop", DefaultValueFactory = _ => "adam" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: 1e-3 for Adam/AdamW/RMSProp, 0.1 for SGD, 0.05 with momentum)" };
        var wd = new Option<double>("--weight-decay") { Description = "Weight decay λ", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs", DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 128 };
        var init = new Option<string>("--init") { Description = "he, he_uniform, xavier, xavier_normal, naive (N(0, 0.01²)), normal:STD", DefaultValueFactory = _ => "he" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialization, the validation split and shuffling", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Output folder", DefaultValueFactory = _ => "outputs" };
        var threads = new Option<int>("--threads") { Description = "Threads for the kernels", DefaultValueFactory = _ => Environment.ProcessorCount };
        var patience = new Option<int>("--patience") { Description = "Early stopping: epochs without a better validation loss (0: off)", DefaultValueFactory = _ => 5 };
        var data = new Option<string?>("--data") { Description = "Folder holding mnist/ and fashion-mnist/ (default: $NN_DATA, then the cache, then download)" };
        var val = new Option<double>("--val-fraction") { Description = "Share of the training set held out for validation", DefaultValueFactory = _ => 0.1 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training and test images (quick runs)" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: none, cosine (to 0 over --epochs), step (×0.1 every third of --epochs), onecycle (per batch: warm-up to --lr over the first quarter, cosine down)", DefaultValueFactory = _ => "cosine" };
        var fast = new Option<bool>("--fast") { Description = $"Train for speed: with --model cnn a smaller CNN (conv 5×5 with 16 and 32 channels, a 128-unit head), {FastPreset.Epochs} epochs, one-cycle schedule peaking at lr {FastPreset.LearningRate}, no early stopping (options given explicitly still apply)" };
        var shift = new Option<int>("--augment-shift") { Description = "Randomly translate training images by up to N pixels (CNN only; default 1 for --model cnn, 0 with --fast and for the MLP)", DefaultValueFactory = _ => 0 };
        var bug = new Option<string?>("--bug") { Description = $"Train with a deliberately wrong backward pass (see nn gradcheck --bug list; 'list' lists them): the smallest MLP containing its layer, {BugTraining.Epochs} epochs unless --epochs is given, no checkpoint" };
        var control = new Option<bool>("--control") { Description = "With --bug: train the same model and settings with correct backward passes" };
        var from = new Option<string?>("--from") { Description = "Fine-tune: start from this checkpoint's network and weights (.npz or .safetensors from nn train, nn import or nn export) instead of a fresh --model; --model, --hidden, --init and --fast do not apply" };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Cross-entropy label smoothing ε (in the training and validation losses, which early stopping watches; the test loss is plain cross-entropy)", DefaultValueFactory = _ => 0.1 };
        var csv = new Option<string?>("--csv") { Description = "Train on a CSV table (header row; comma, semicolon or tab separated) instead of --dataset; needs --target", HelpName = "FILE" };
        var target = new Option<string?>("--target") { Description = "--csv: the column to predict", HelpName = "COLUMN" };
        var ignore = new Option<string?>("--ignore") { Description = "--csv: columns that are not features (ids, names), comma-separated", HelpName = "COL,…" };
        var task = new Option<string?>("--task") { Description = "--csv: classification or regression (default: classification when the target is text, or integers with at most 20 distinct values)" };
        var testFraction = new Option<double>("--test-fraction") { Description = "--csv: share of the rows held out for testing (seeded, stratified by class)", DefaultValueFactory = _ => 0.2 };
        var testFile = new Option<string?>("--test") { Description = "--csv: a CSV file with the same columns to test on, instead of --test-fraction", HelpName = "FILE" };
        var fill = new Option<string?>("--fill") { Description = "--csv: fill missing values (empty, NA, NaN, inf) of feature columns with the training split's mean, median or mode (categories: mode) instead of refusing them" };
        var lossOption = new Option<string?>("--loss") { Description = "--csv regression: mse (default) or huber, on the standardized target" };
        var imagesOption = new Option<string?>("--images") { Description = "Train on a folder of pictures with one subfolder per class (DIR/train and DIR/test, when both exist, are the splits) instead of --dataset", HelpName = "DIR" };
        var imageSize = new Option<string?>("--image-size") { Description = "--images: stretch every picture to N×N or WxH pixels (default: the most common size)", HelpName = "N|WxH" };
        var channels = new Option<int?>("--channels") { Description = "--images: 1 (grey) or 3 (RGB); default 3 when any picture has colour, else 1" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run whose output folder this is, from its checkpoints/last.npz (written after every epoch), with its saved settings; an option given as well must equal the saved one", HelpName = "OUTPUT_DIR" };

        var cmd = new Command("train", "Train a model (default: MLP 784→128→64→10 on MNIST with Adam) and write checkpoint, history, metrics and figures.");
        foreach (var o in new Option[] { dataset, model, hidden, optimizer, lr, wd, epochs, batch, init, seed, output, threads, patience, data, val, limit, quiet, noFigures, schedule, smoothing, shift, fast, resume, bug, control, from, csv, target, ignore, task, testFraction, testFile, fill, lossOption, imagesOption, imageSize, channels })
            cmd.Options.Add(o);
        // The options that decide the run, as settings, for comparing what --resume is given with what was saved.
        // --quiet and --no-figures only change what is shown or drawn, so a resumed run takes them from its own command line.
        var decisive = new (Option Option, Func<TrainSettings, string> Value)[]
        {
            (dataset, t => t.Dataset), (model, t => t.Model), (hidden, t => string.Join(',', t.Hidden)), (optimizer, t => t.Optimizer),
            (lr, t => Number(t.LearningRate ?? ModelFactory.DefaultLearningRate(t.Optimizer))), (wd, t => Number(t.WeightDecay)),
            (epochs, t => Number(t.Epochs)), (batch, t => Number(t.BatchSize)), (init, t => t.Init), (seed, t => t.Seed.ToString(CultureInfo.InvariantCulture)),
            (output, t => Path.GetFullPath(t.Output)), (threads, t => Number(t.Threads)), (patience, t => t.Patience is int n ? Number(n) : "0 (off)"),
            (data, t => t.DataFolder is null ? "(not given)" : Path.GetFullPath(t.DataFolder)), (val, t => Number(t.ValidationFraction)),
            (limit, t => t.Limit is int n ? Number(n) : "(all)"), (schedule, t => t.Schedule), (smoothing, t => Number(t.LabelSmoothing)),
            (shift, t => Number(t.Shift)), (fast, t => t.Fast ? "true" : "false"),
        };
        cmd.SetAction(p => Cli.Guard(() =>
        {
            if (p.GetValue(bug) == "list") return GradcheckCommand.ListBugs();
            int pat = p.GetValue(patience);
            bool isFast = p.GetValue(fast);
            bool Given(Option o) => p.GetResult(o) is { Implicit: false };
            if (p.GetValue(from) is not null && new Option[] { model, hidden, init, fast }.FirstOrDefault(Given) is Option clash)
                throw new CliException($"{clash.Name} does not apply with --from: the checkpoint's network is trained as it is");
            var s = new TrainSettings
            {
                Dataset = p.GetValue(dataset)!, Model = p.GetValue(model)!, Hidden = ModelFactory.ParseHidden(p.GetValue(hidden)!),
                Optimizer = p.GetValue(optimizer)!, LearningRate = p.GetValue(lr), WeightDecay = p.GetValue(wd),
                Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), Init = p.GetValue(init)!, Seed = p.GetValue(seed),
                Output = p.GetValue(output)!, Threads = p.GetValue(threads), Patience = pat <= 0 ? null : pat,
                DataFolder = p.GetValue(data), ValidationFraction = p.GetValue(val), Limit = p.GetValue(limit),
                Quiet = p.GetValue(quiet), Figures = !p.GetValue(noFigures),
                Schedule = p.GetValue(schedule)!, LabelSmoothing = p.GetValue(smoothing), Shift = p.GetValue(shift),
                Fast = isFast, Bug = p.GetValue(bug), Control = p.GetValue(control), From = p.GetValue(from),
            };
            if (s.Bug is not null)
            {
                var b = BugTraining.Find(s.Bug);
                s = s with
                {
                    Epochs = Given(epochs) ? s.Epochs : BugTraining.Epochs,
                    Hidden = Given(hidden) ? s.Hidden : BugTraining.DefaultHidden(b),
                    Output = Given(output) ? s.Output : Path.Combine("outputs", $"bug-{b.Name}{(s.Control ? "-control" : "")}"),
                };
            }
            // ±1 pixel shifts are the CNN's default (99.38% against 99.26% without, MNIST test); a short --fast run
            // converges faster on the plain images.
            if (!Given(shift) && s.Model == "cnn" && !isFast) s = s with { Shift = 1 };
            if (isFast)
            {
                s = s with
                {
                    Epochs = Given(epochs) ? s.Epochs : FastPreset.Epochs,
                    LearningRate = Given(lr) ? s.LearningRate : FastPreset.LearningRate,
                    Schedule = Given(schedule) ? s.Schedule : FastPreset.Schedule,
                    Patience = Given(patience) ? s.Patience : null,
                };
            }
            string modelValue = s.Model;
            if (ModelFile.IsFile(modelValue)) s = s with { ModelFile = modelValue, Model = "file" };
            if (p.GetValue(csv) is not null && p.GetValue(imagesOption) is not null) throw new CliException("--csv and --images exclude each other");
            if (p.GetValue(imagesOption) is string pictures)
            {
                foreach (var o in new Option[] { dataset, data, resume, limit, fast, target, ignore, task, testFile, fill, lossOption })
                    if (Given(o)) throw new CliException($"--images and {o.Name} exclude each other");
                if (s.Model == "mlp" && Given(model)) throw new CliException("--images trains the CNN (or a --model FILE.json); --model mlp is for tables and MNIST");
                Images.ImageTrainer.Run(s with
                {
                    Images = pictures, ImageSize = p.GetValue(imageSize), Channels = p.GetValue(channels), TestFraction = p.GetValue(testFraction),
                    Epochs = Given(epochs) ? s.Epochs : 15,
                    LabelSmoothing = Given(smoothing) ? s.LabelSmoothing : 0,
                });
                return 0;
            }
            foreach (var o in new Option[] { imageSize, channels })
                if (Given(o)) throw new CliException($"{o.Name} needs --images");
            if (p.GetValue(csv) is string table)
            {
                foreach (var o in new Option[] { dataset, data, resume, limit, fast, shift })
                    if (Given(o)) throw new CliException($"--csv and {o.Name} exclude each other");
                if (s.Model == "cnn") throw new CliException("--csv trains an MLP (or a --model FILE.json); --model cnn is for images");
                s = s with
                {
                    Csv = table, Target = p.GetValue(target), Task = p.GetValue(task), TestFraction = p.GetValue(testFraction), TestFile = p.GetValue(testFile),
                    Fill = p.GetValue(fill), Loss = p.GetValue(lossOption),
                    Ignore = p.GetValue(ignore)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                    Epochs = Given(epochs) ? s.Epochs : Tables.TableTrainer.Defaults.Epochs,
                    LearningRate = Given(lr) ? s.LearningRate : Tables.TableTrainer.Defaults.LearningRate,
                    BatchSize = Given(batch) ? s.BatchSize : Tables.TableTrainer.Defaults.BatchSize,
                    WeightDecay = Given(wd) ? s.WeightDecay : Tables.TableTrainer.Defaults.WeightDecay,
                    Patience = Given(patience) ? s.Patience : Tables.TableTrainer.Defaults.Patience,
                    ValidationFraction = Given(val) ? s.ValidationFraction : Tables.TableTrainer.Defaults.ValidationFraction,
                    Hidden = Given(hidden) ? s.Hidden : ModelFactory.ParseHidden(Tables.TableTrainer.Defaults.Hidden),
                    Schedule = Given(schedule) ? s.Schedule : Tables.TableTrainer.Defaults.Schedule,
                    LabelSmoothing = Given(smoothing) ? s.LabelSmoothing : 0,
                };
                Tables.TableTrainer.Run(s);
                return 0;
            }
            foreach (var o in new Option[] { target, ignore, task, testFraction, testFile, fill, lossOption })
                if (Given(o)) throw new CliException($"{o.Name} needs --csv");
            if (p.GetValue(resume) is string folder)
            {
                var saved = ReadSavedRun(folder);
                var given = s with { Output = Given(output) ? s.Output : folder };
                var differences = decisive.Where(d => Given(d.Option) && d.Value(given) != d.Value(saved.Settings))
                    .Select(d => $"{d.Option.Name} {d.Value(given)} (saved: {d.Value(saved.Settings)})").ToArray();
                if (differences.Length > 0)
                {
                    throw new CliException($"--resume {folder}: {(differences.Length == 1 ? "this option differs" : "these options differ")} from the saved run: " +
                        $"{string.Join("; ", differences)}. Leave {(differences.Length == 1 ? "it" : "them")} out to continue with the saved settings.");
                }
                return ExitCode(Run(saved.Settings with { Output = folder, Quiet = s.Quiet, Figures = s.Figures }, resume: saved));
            }
            return ExitCode(Run(s));
        }));
        return cmd;
    }

    private static string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>1 when training diverged (the run still wrote its report, and the best finite epoch's weights if any), else 0.</summary>
    private static int ExitCode(Result result) => result.History.StopReason == StopReason.Diverged ? 1 : 0;

    /// <summary>Where <c>nn train</c> keeps its resume point in an output folder.</summary>
    public static string LastCheckpoint(string output) => Path.Combine(output, "checkpoints", "last.npz");

    private const string SavedRunEntry = "train_run.json";

    /// <summary>
    /// Test-only: <c>NN_TEST_CHECKPOINT_DELAY_MS</c> makes every write of best_model.npz and last.npz pause that long inside
    /// its temp file (the arrays written, the zip's directory not yet), so that the kill tests land SIGKILLs inside writes.
    /// Unset, 0: no pause.
    /// </summary>
    private static readonly int s_testCheckpointDelayMs =
        int.TryParse(Environment.GetEnvironmentVariable("NN_TEST_CHECKPOINT_DELAY_MS"), CultureInfo.InvariantCulture, out int ms) && ms > 0 ? ms : 0;

    /// <summary>The test-only pause of <see cref="s_testCheckpointDelayMs"/>, called between a checkpoint's entries.</summary>
    private static void TestCheckpointDelay()
    {
        if (s_testCheckpointDelayMs > 0) Thread.Sleep(s_testCheckpointDelayMs);
    }

    /// <summary>What last.npz holds besides the training state: the run's settings and the seconds it has run so far.</summary>
    internal sealed record SavedRun(TrainSettings Settings, double ElapsedSeconds);

    private static readonly JsonSerializerOptions s_savedRunJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The settings saved in <paramref name="output"/>'s last.npz, or an error naming what is missing or wrong.</summary>
    internal static SavedRun ReadSavedRun(string output)
    {
        if (!Directory.Exists(output)) throw new CliException($"--resume: folder not found: {output}", 1);
        string last = LastCheckpoint(output);
        if (!File.Exists(last))
            throw new CliException($"--resume: {last} not found; nn train writes it after each completed epoch, so the run in {output} finished none (or was not written by nn train).", 1);
        string? json;
        using (var npz = new NpzReader(last)) json = npz.GetText(SavedRunEntry);
        if (json is null) throw new CliException($"--resume: {last} has no {SavedRunEntry}: it is not a checkpoint nn train wrote for resuming.", 1);
        try
        {
            return JsonSerializer.Deserialize<SavedRun>(json, s_savedRunJson) ?? throw new CliException($"--resume: {last}: {SavedRunEntry} is empty.", 1);
        }
        catch (JsonException e)
        {
            throw new CliException($"--resume: {last}: {SavedRunEntry} is not valid: {e.Message}", 1);
        }
    }

    /// <summary>Validates the settings, naming the first bad one.</summary>
    public static void Validate(TrainSettings s)
    {
        if (s.Epochs < 1) throw new CliException($"--epochs must be ≥ 1, got {s.Epochs}");
        if (s.BatchSize < 1) throw new CliException($"--batch-size must be ≥ 1, got {s.BatchSize}");
        if (s.Threads < 1) throw new CliException($"--threads must be ≥ 1, got {s.Threads}");
        if (s.LearningRate is double l && !(l > 0)) throw new CliException($"--lr must be > 0, got {l}");
        if (!(s.ValidationFraction >= 0 && s.ValidationFraction < 1)) throw new CliException($"--val-fraction must be in [0, 1), got {s.ValidationFraction}");
        if (s.Limit is int n && n < 1) throw new CliException($"--limit must be ≥ 1, got {n}");
        if (!DataSource.Datasets.Contains(s.Dataset)) throw new CliException($"unknown dataset '{s.Dataset}' (known: {string.Join(", ", DataSource.Datasets)})");
        if (s.ModelFile is null && !ModelFactory.Models.Contains(s.Model)) throw new CliException($"unknown model '{s.Model}' (known: {string.Join(", ", ModelFactory.Models)})");
        if (!ModelFactory.Optimizers.Contains(s.Optimizer)) throw new CliException($"unknown optimizer '{s.Optimizer}' (known: {string.Join(", ", ModelFactory.Optimizers)})");
        ModelFactory.Init(s.Init);
        if (s.Shift < 0 || s.Shift > 8) throw new CliException($"--augment-shift must be in [0, 8], got {s.Shift}");
        if (s.Shift > 0 && s.From is null && !ModelFactory.WantsImages(s.Model)) throw new CliException("--augment-shift needs --model cnn (images in NCHW layout)");
        if (s.From is not null && !File.Exists(s.From)) throw new CliException($"--from: checkpoint not found: {s.From}", 1);
        if (s.Schedule is not ("none" or "cosine" or "step" or "onecycle")) throw new CliException($"unknown schedule '{s.Schedule}' (known: none, cosine, step, onecycle)");
        if (!(s.LabelSmoothing >= 0 && s.LabelSmoothing < 1)) throw new CliException($"--label-smoothing must be in [0, 1), got {s.LabelSmoothing}");
        if (s.Control && s.Bug is null) throw new CliException("--control needs --bug NAME (it trains that bug's model without the bug)");
        if (s.Bug is not null)
        {
            BugTraining.Find(s.Bug);
            if (s.Model != "mlp") throw new CliException($"--bug trains MLPs (the smallest model containing the buggy layer); --model {s.Model} is not supported with it");
        }
    }

    public static LearningRateSchedule? ScheduleFor(TrainSettings s) => s.Schedule switch
    {
        "cosine" => new CosineAnnealing(s.Epochs),
        "step" => new StepDecay(Math.Max(1, s.Epochs / 3), 0.1),
        "onecycle" => new OneCycle(s.Epochs),
        _ => null,
    };

    /// <summary>The result of a run, for the experiments.</summary>
    public sealed record Result(History History, Metrics Test, Sequential<float> Model, Dataset<float> TestSet);

    /// <summary>
    /// Trains as <paramref name="s"/> says, or, given <paramref name="resume"/> (read from <c>s.Output</c>'s last.npz),
    /// continues that run from its last completed epoch: the final weights are those of an uninterrupted run, bit for bit.
    /// </summary>
    public static Result Run(TrainSettings s, CancellationToken external = default, SavedRun? resume = null)
    {
        Validate(s);
        TensorOps.Threads = s.Threads;
        Sequential<float>? start = s.From is null ? null : Start(s.From);
        bool images = start is not null ? ModelFactory.WantsImages(start, Checkpoint.ReadInputShape(s.From!))
            : s.ModelFile is not null ? ModelFile.TakesImages(s.ModelFile) : ModelFactory.WantsImages(s.Model);
        if (s.Shift > 0 && !images) throw new CliException($"--augment-shift needs a model that takes images (N, 1, 28, 28); {s.From ?? s.ModelFile} takes rows");
        // Compiles the training path on another thread while the data loads (the built-in models only).
        var warmup = start is null && s.ModelFile is null ? Warmup.Start(s) : Task.CompletedTask;
        var (train, validation, test) = DataSource.Load(s.Dataset, s.DataFolder, s.ValidationFraction, s.Seed, s.Limit, s.Quiet, images);
        warmup.Wait();
        int inputs = train.SampleSize;
        var bug = s.Bug is null ? null : BugTraining.Find(s.Bug);
        if (bug is not null && (start is not null || s.ModelFile is not null))
            throw new CliException("--bug builds its own small model: it excludes --from and --model FILE.json");
        // A bug run trains `model` (its layers wrapped in the bug's variants, same parameters) and describes `plain`.
        var plain = start ?? (bug is not null
            ? BugTraining.Build(bug, inputs, train.NumClasses, s.Hidden, ModelFactory.Init(s.Init), s.Seed)
            : s.ModelFile is not null
                ? ModelFile.Load(s.ModelFile, train.SampleShape, train.NumClasses, s.Seed)
                : ModelFactory.Build(s.Model, inputs, train.NumClasses, s.Hidden, ModelFactory.Init(s.Init), s.Seed, s.Fast));
        if (start is not null) CheckFits(s.From!, start, train);
        var model = bug is null || s.Control ? plain : bug.Apply(plain);
        var optimizer = ModelFactory.Optimizer(s.Optimizer, model.Parameters(), s.LearningRate, s.WeightDecay);
        var loss = new CrossEntropyLoss<float>(s.LabelSmoothing);
        if (bug is not null && !s.Control) loss = bug.Apply(loss);
        string modelName = start is null ? $"{Architecture.Summary(plain)} ({s.Init} init)" : $"{Architecture.Summary(plain)} (from {Path.GetFileName(s.From)})";
        string optimizerName = optimizer.ToString()!; // before training: a schedule changes the learning rate

        string checkpoints = Path.Combine(s.Output, "checkpoints");
        string best = Path.Combine(checkpoints, "best_model.npz");
        string last = LastCheckpoint(s.Output);
        FitState<float> state;
        if (resume is null)
        {
            if (bug is null) // a bug run keeps no checkpoint
            {
                Directory.CreateDirectory(checkpoints);
                File.Delete(last); // another run's resume point must not outlive this run's first epoch
            }
            state = new FitState<float>(model);
        }
        else
        {
            try
            {
                state = TrainingCheckpoint.Load(last, model, optimizer);
            }
            catch (Exception e) when (e is InvalidDataException or ShapeMismatchException)
            {
                throw new CliException($"--resume: {e.Message}", 1);
            }
        }
        state.BaseLearningRate ??= optimizer.LearningRate;
        if (!s.Quiet)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Dataset}: {train.Count} train / {validation.Count} validation / {test.Count} test; {modelName}, {model.ParameterCount():N0} parameters; {optimizerName}; batch {s.BatchSize}; {s.Threads} threads; seed {s.Seed}"));
            if (bug is not null)
            {
                Console.WriteLine(s.Control
                    ? $"control run for --bug {bug.Name}: {BugTraining.Describe(bug)}, every backward pass correct"
                    : $"bug {bug.Name} in every {bug.Layer}: {bug.Mistake}; model: {BugTraining.Describe(bug)}");
            }
            if (resume is not null)
            {
                var h = state.History;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"resuming {last}: {state.NextEpoch} of {s.Epochs} epochs done{(h.BestEpoch >= 0 ? $", best epoch {h.BestEpoch + 1} (val loss {h.Epochs[h.BestEpoch].ValidationLoss:F4})" : "")}"));
                foreach (var r in h.Epochs) Console.WriteLine(ConsoleObserver.Summary(r, s.Epochs, r.Epoch == h.BestEpoch) + "  (saved)");
            }
        }

        var metadata = new Dictionary<string, string>
        {
            ["dataset"] = s.Dataset, ["model"] = modelName, ["optimizer"] = optimizerName, ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
        };
        var settingsToSave = s with
        {
            Output = Path.GetFullPath(s.Output), DataFolder = s.DataFolder is null ? null : Path.GetFullPath(s.DataFolder), Quiet = false, Figures = true,
        };
        double earlierSeconds = resume?.ElapsedSeconds ?? 0;
        // One sample without the batch dimension: [784] for the MLP, [1, 28, 28] for the CNN; exporters need it.
        int[] inputShape = train.SampleShape;

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(external);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop after the current batch, then write what we have
            cts.Cancel();
            if (!s.Quiet)
                Console.Error.WriteLine($"Stopping after this batch; the best checkpoint and the figures will still be written. 'nn train --resume {s.Output}' continues from the last completed epoch.");
        };
        Console.CancelKeyPress += onCancel;
        History history;
        var clock = Stopwatch.StartNew();
        try
        {
            var observer = new ConsoleObserver(s.Epochs, (record, isBest) =>
            {
                // Save as soon as an epoch is the best: a crash or Ctrl+C keeps it.
                // A bug run keeps no checkpoint: its weights are an experiment's, and its wrapped layers have no stored form.
                if (isBest && bug is null) Checkpoint.Save(best, model, optimizer, new TrainingState(record.Epoch + 1, s.Seed, state.BaseLearningRate.Value), metadata, inputShape,
                    _ => TestCheckpointDelay());
            }, nextEpoch =>
            {
                if (bug is not null) return;
                // Every completed epoch, never a partial one: everything an exact resume needs, written atomically.
                var run = new SavedRun(settingsToSave, earlierSeconds + clock.Elapsed.TotalSeconds);
                TrainingCheckpoint.Save(last, model, optimizer, state, s.Seed, metadata, inputShape,
                    w =>
                    {
                        TestCheckpointDelay();
                        w.AddText(SavedRunEntry, JsonSerializer.Serialize(run, s_savedRunJson));
                    });
            });
            var options = new TrainerOptions
            {
                Epochs = s.Epochs, BatchSize = s.BatchSize, Seed = s.Seed, Patience = s.Patience, CancellationToken = cts.Token, Schedule = ScheduleFor(s), EvaluationBatchSize = ModelFactory.EvaluationBatch(model),
            };
            history = observer.Run(() =>
            {
                try
                {
                    Action<NeuralNet.Tensors.Tensor<float>, NeuralNet.Tensors.Rng>? augment =
                        s.Shift > 0 ? (batch, rng) => Augment.RandomShift(batch, s.Shift, rng) : null;
                    return Trainer.Fit(model, loss, optimizer, train, validation, options, observer, augment, state);
                }
                catch (TrainingDivergedException e)
                {
                    Console.Error.WriteLine("error: " + e.Message);
                    return e.History;
                }
            }, s.Quiet);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        double totalSeconds = earlierSeconds + clock.Elapsed.TotalSeconds;

        var testMetrics = Trainer.Evaluate(model, new CrossEntropyLoss<float>(), test, ModelFactory.EvaluationBatch(model)); // plain cross-entropy, comparable across runs
        // Fit put the best epoch's weights back into the model just evaluated, so they are the checkpoint's: record their
        // test accuracy in its metadata (weights, optimizer and training state stay as they were saved).
        if (bug is null && history.BestEpoch >= 0 && File.Exists(best))
            Checkpoint.UpdateMetadata(best, new Dictionary<string, string> { ["test_accuracy"] = testMetrics.Accuracy.ToString("R", CultureInfo.InvariantCulture) });
        Directory.CreateDirectory(s.Output);
        File.WriteAllText(Path.Combine(s.Output, "history.csv"), history.ToCsv());
        File.WriteAllText(Path.Combine(s.Output, "history.json"), history.ToJson());
        var metrics = new
        {
            dataset = s.Dataset,
            model = modelName,
            parameters = model.ParameterCount(),
            optimizer = optimizerName,
            schedule = s.Schedule,
            label_smoothing = s.LabelSmoothing,
            augment_shift = s.Shift,
            batch_size = s.BatchSize,
            threads = s.Threads,
            seed = s.Seed,
            bug = s.Bug,
            control = s.Control,
            epochs = history.Epochs.Count,
            best_epoch = history.BestEpoch + 1,
            stop_reason = history.StopReason.ToText(),
            test_accuracy = testMetrics.Accuracy,
            test_loss = testMetrics.Loss,
            test_samples = testMetrics.Count,
            best_val_accuracy = history.Epochs.Count == 0 ? double.NaN : history.Epochs.Where(e => e.Epoch == history.BestEpoch).Select(e => e.ValidationAccuracy).FirstOrDefault(),
            epoch_seconds = history.Epochs.Select(e => e.Seconds).ToArray(),
            total_seconds = totalSeconds,
        };
        File.WriteAllText(Path.Combine(s.Output, "metrics.json"), JsonSerializer.Serialize(metrics, JsonOptions));

        if (s.Figures) WriteFigures(s.Output, history, testMetrics, model, test);
        if (!s.Quiet)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"test accuracy {testMetrics.Accuracy:P2}, test loss {testMetrics.Loss:F4} (best epoch {history.BestEpoch + 1}, {history.StopReason.ToText()}); wrote {(bug is null ? best + " and " : "")}{s.Output}/"));
        }
        return new Result(history, testMetrics, model, test);
    }

    /// <summary>The checkpoint's model, which must be a Sequential (every checkpoint nn writes holds one).</summary>
    private static Sequential<float> Start(string path)
    {
        try
        {
            return Checkpoint.Load<float>(path) as Sequential<float> ?? throw new CliException($"--from {path}: the checkpoint's model is not a Sequential chain of layers", 1);
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException or NotSupportedException)
        {
            throw new CliException($"--from: {e.Message}", 1);
        }
    }

    /// <summary>One sample through the model: it must take the data's samples and give one score per class.</summary>
    private static void CheckFits(string path, Sequential<float> model, Dataset<float> train)
    {
        int[] sample = train.SampleShape;
        Tensor<float> y;
        model.Eval();
        try
        {
            y = model.Forward(train.Take(1).Features);
        }
        catch (ShapeMismatchException e)
        {
            throw new CliException($"--from {path}: the model does not take the data's samples (N, {string.Join(", ", sample)}): {e.Message}", 1);
        }
        if (y.Rank != 2 || y.Shape[1] != train.NumClasses)
            throw new CliException($"--from {path}: the model's output {y.Shape} is not one score per class (N, {train.NumClasses}) of {train.ClassNames.Count} classes", 1);
    }

    internal static JsonSerializerOptions JsonOptions => CliJson.Indented;

    public static void WriteFigures(string output, History history, Metrics test, Sequential<float> model, Dataset<float> testSet)
    {
        Directory.CreateDirectory(output);
        if (history.Epochs.Count > 0)
        {
            Figures.LossCurve(history, Path.Combine(output, "loss_curve.png"));
            Figures.AccuracyCurve(history, Path.Combine(output, "accuracy_curve.png"));
        }
        EvaluateCommand.WriteEvaluationFigures(output, test, model, testSet);
        if (model.Modules.OfType<Linear<float>>().FirstOrDefault() is { InFeatures: 784 } first)
            Figures.FirstLayerWeights(first.Weight.Value, Path.Combine(output, "first_layer_weights.png"));
    }
}
