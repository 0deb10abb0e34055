using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;

namespace NeuralNet.Checkpoints;

/// <summary>Where training stood when a checkpoint was written, for resuming exactly.</summary>
/// <param name="NextEpoch">The epoch to run next (epochs completed so far).</param>
/// <param name="Seed">The data loader's seed (each epoch's order derives from it and the epoch).</param>
/// <param name="BaseLearningRate">η₀, from which a schedule computes each epoch's rate.</param>
public sealed record TrainingState(int NextEpoch, ulong Seed, double BaseLearningRate);

/// <summary>
/// Saves and loads models as NumPy .npz archives: one <c>NAME.npy</c> per parameter or buffer ("0.weight",
/// "0.bias", …, '&lt;f4' or '&lt;f8'), plus <c>architecture.json</c> (the model's structure, so <see cref="Load{T}"/>
/// rebuilds it, plus the input shape without the batch dimension when it is given), and optionally the optimizer's state (<c>optimizer/…</c> arrays and <c>optimizer.json</c>) and the
/// training position (<c>training.json</c>). <c>numpy.load("best_model.npz")</c> opens it. Writes are atomic.
/// <see cref="SaveSafetensors{T}"/> writes the same names and architecture as a safetensors file; the readers tell
/// the two formats apart by content, not by file name. <see cref="ImportStateDict{T}"/> loads a PyTorch
/// <c>state_dict</c> (either format) into a model built here.
/// </summary>
public static class Checkpoint
{
    private const string ArchitectureEntry = "architecture.json";
    private const string OptimizerEntry = "optimizer.json";
    private const string TrainingEntry = "training.json";
    private const string OptimizerPrefix = "optimizer.";
    private const string SafetensorsArchitectureKey = "architecture";

    /// <summary>
    /// Writes <paramref name="model"/> (and optionally optimizer state, training state, metadata and the input shape) to
    /// <paramref name="path"/>. <paramref name="inputShape"/> is one sample's shape, without the batch dimension
    /// (<c>[784]</c> for an MLP on MNIST, <c>[1, 28, 28]</c> for a CNN); exporters read it back with <see cref="ReadInputShape"/>.
    /// <paramref name="more"/>, if given, adds entries of its own to the same archive (see <see cref="TrainingCheckpoint"/>).
    /// </summary>
    public static void Save<T>(string path, Module<T> model, Optimizer<T>? optimizer = null, TrainingState? training = null,
        IReadOnlyDictionary<string, string>? metadata = null, int[]? inputShape = null, Action<NpzWriter>? more = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inputShape is not null) Architecture.CheckInputShape(inputShape, "Checkpoint.Save");
        var architecture = Document(model, metadata, inputShape);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        Npz.Save(path, w =>
        {
            foreach (var (name, tensor) in model.StateDict()) w.Add(name, tensor);
            w.AddText(ArchitectureEntry, architecture.ToJsonString(Architecture.Indented));
            if (optimizer is not null)
            {
                foreach (var (name, tensor) in optimizer.State()) w.Add(OptimizerPrefix + name, tensor);
                var info = new JsonObject
                {
                    ["type"] = optimizer.GetType().Name.Split('`')[0],
                    ["step"] = optimizer.StepCount,
                    ["hyperparameters"] = new JsonObject(optimizer.Hyperparameters.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                };
                w.AddText(OptimizerEntry, info.ToJsonString(Architecture.Indented));
            }
            if (training is not null)
                w.AddText(TrainingEntry, JsonSerializer.Serialize(training, Architecture.Indented));
            more?.Invoke(w);
        });
    }

    /// <summary>
    /// Writes <paramref name="model"/>'s state dict ("0.weight", …; F32 or F64) as a safetensors file at <paramref name="path"/>,
    /// atomically, with the document <see cref="Save{T}"/> keeps in architecture.json (structure and <paramref name="metadata"/>)
    /// as the string <c>__metadata__["architecture"]</c>. <see cref="Load{T}"/> and <see cref="ReadMetadata"/> read it back;
    /// <c>safetensors.torch.load_file</c> reads the tensors.
    /// </summary>
    public static void SaveSafetensors<T>(string path, Module<T> model, IReadOnlyDictionary<string, string>? metadata = null,
        int[]? inputShape = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (inputShape is not null) Architecture.CheckInputShape(inputShape, "Checkpoint.SaveSafetensors");
        var architecture = Document(model, metadata, inputShape);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        Safetensors.Save(path, model.StateDict(), new Dictionary<string, string> { [SafetensorsArchitectureKey] = architecture.ToJsonString() });
    }

    /// <summary>Rebuilds the model stored at <paramref name="path"/> (.npz or safetensors, told apart by content) and loads its weights.</summary>
    public static Module<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var file = CheckpointFile.Open(path);
        var document = ReadArchitecture(file);
        Module<T> model;
        try
        {
            // Every parameter and buffer is stored in the file at one byte or more: a description asking for more elements
            // than the file has bytes of tensor data is refused before its layers allocate.
            model = Architecture.BuildFromDocument<T>(document, maxElements: file.TensorBytesBound);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {file.DescribeEntry(ArchitectureEntry)}: {e.Message}", e);
        }
        try
        {
            LoadWeights(file, model);
        }
        catch (ShapeMismatchException e)
        {
            // Both shapes come from the file: its description and its weights disagree, a damaged file, not a bad argument.
            throw new InvalidDataException($"{e.Message} The checkpoint's {file.DescribeEntry(ArchitectureEntry)} and its weights disagree.", e);
        }
        return model;
    }

    /// <summary>
    /// The model's input shape without the batch dimension (e.g. [784] or [1, 28, 28]) saved with the checkpoint,
    /// or null for a checkpoint saved without one.
    /// </summary>
    public static int[]? ReadInputShape(string path)
    {
        using var file = CheckpointFile.Open(path);
        var document = ReadArchitecture(file);
        try
        {
            return Architecture.InputShape(document);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {file.DescribeEntry(ArchitectureEntry)}: {e.Message}", e);
        }
    }

    /// <summary>The element type the weights were saved in: "float32" or "float64".</summary>
    public static string ReadDType(string path)
    {
        using var file = CheckpointFile.Open(path);
        var node = ReadArchitecture(file)["dtype"];
        return node is JsonValue v && v.TryGetValue(out string? dtype) && dtype is "float32" or "float64" ? dtype!
            : throw new InvalidDataException($"{path}: {ArchitectureEntry}: \"dtype\" is {node?.ToJsonString() ?? "missing"}, expected \"float32\" or \"float64\".");
    }

    /// <summary>
    /// Sets metadata keys of the checkpoint at <paramref name="path"/> (adding or replacing them, keeping the others),
    /// leaving every other entry — weights, optimizer and training state — byte for byte as it was. The rewrite is atomic.
    /// </summary>
    public static void UpdateMetadata(string path, IReadOnlyDictionary<string, string> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        // Read everything first: the file is replaced by a rename, which some systems refuse while it is open.
        var entries = new List<(string Name, byte[]? Bytes)>();
        JsonObject architecture;
        using (var file = CheckpointFile.Open(path))
        {
            if (file.Format != "npz") throw new InvalidDataException($"{path}: metadata can be updated in .npz checkpoints only; this is a {file.Format} file.");
            architecture = ReadArchitecture(file) as JsonObject
                ?? throw new InvalidDataException($"{path}: {ArchitectureEntry} is not a JSON object.");
        }
        using (var npz = new NpzReader(path))
        {
            foreach (string name in npz.EntryNames)
                entries.Add((name, name == ArchitectureEntry ? null : npz.GetBytes(name)));
        }
        if (architecture["metadata"] is not JsonObject meta) architecture["metadata"] = meta = new JsonObject();
        foreach (var (key, value) in changes) meta[key] = value;
        Npz.Save(path, w =>
        {
            foreach (var (name, bytes) in entries)
            {
                if (bytes is null) w.AddText(name, architecture.ToJsonString(Architecture.Indented));
                else w.AddBytes(name, bytes);
            }
        });
    }

    /// <summary>Loads the weights stored at <paramref name="path"/> into an existing model of the same structure.</summary>
    public static void LoadInto<T>(string path, Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var file = CheckpointFile.Open(path);
        LoadWeights(file, model);
    }

    /// <summary>The metadata strings saved with the model (empty when none), from an .npz or a safetensors checkpoint.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var file = CheckpointFile.Open(path);
        var meta = ReadArchitecture(file)["metadata"] as JsonObject;
        return meta?.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "") ?? new Dictionary<string, string>();
    }

    /// <summary>
    /// Loads a PyTorch <c>state_dict</c> into <paramref name="model"/>, by name: an .npz (<c>np.savez(path, **{k: v.numpy()
    /// for k, v in model.state_dict().items()})</c>) or a safetensors file, told apart by content. The names of an
    /// <c>nn.Sequential</c> whose layers come in the same order as <paramref name="model"/>'s are the same here
    /// ("0.weight", "1.running_mean", …): parameterless layers (ReLU, Flatten, pooling, Dropout) take an index in both,
    /// and the layouts agree (Linear (out, in), Conv2d (out, in, kH, kW)). BatchNorm's <c>num_batches_tracked</c> is
    /// skipped: it only matters for momentum = None, which NeuralNet does not implement. Other dtypes convert to
    /// <typeparamref name="T"/> (F64 → float rounds to nearest).
    /// </summary>
    /// <returns>The names in the file that were skipped (the <c>num_batches_tracked</c> counters).</returns>
    /// <exception cref="InvalidDataException">
    /// The file does not fit the model: the message lists every problem at once (each tensor the model needs and the file
    /// lacks, each tensor the file has and the model does not, each shape that differs, with both shapes); nothing is loaded.
    /// </exception>
    public static IReadOnlyList<string> ImportStateDict<T>(string path, Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        using var file = CheckpointFile.Open(path);
        var wanted = model.StateDict().ToList();
        var wantedNames = wanted.Select(w => w.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        var loaded = new Dictionary<string, Tensor<T>>(StringComparer.Ordinal);
        foreach (var (name, tensor) in wanted)
        {
            if (!file.Contains(name))
            {
                problems.Add($"'{name}': the model needs {tensor.Shape}, the file has no such tensor");
                continue;
            }
            var saved = file.Get<T>(name);
            if (saved.Shape != tensor.Shape) problems.Add($"'{name}': the file has {saved.Shape}, the model needs {tensor.Shape}");
            else loaded[name] = saved;
        }
        var skipped = new List<string>();
        foreach (string name in file.Names)
        {
            if (wantedNames.Contains(name)) continue;
            if (name == "num_batches_tracked" || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                skipped.Add(name);
                continue;
            }
            var extra = file.Get<T>(name);
            problems.Add($"'{name}': the file has {extra.Shape}, the model has no such tensor");
        }
        if (problems.Count > 0)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: the {file.Format} state dict does not fit the model ({problems.Count} mismatch{(problems.Count == 1 ? "" : "es")}):")
                + string.Concat(problems.Select(p => "\n  " + p)));
        }
        foreach (var (name, tensor) in wanted) loaded[name].CopyTo(tensor);
        return skipped;
    }

    /// <summary>Restores an optimizer (of the kind that was saved, over the same parameters) from <paramref name="path"/>.</summary>
    public static void LoadOptimizer<T>(string path, Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var file = CheckpointFile.Open(path);
        string json = file.GetText(OptimizerEntry) ?? throw new InvalidDataException($"{path}: no optimizer state was saved in this checkpoint.");
        var info = JsonNode.Parse(json)!;
        string type = info["type"]!.GetValue<string>();
        string expected = optimizer.GetType().Name.Split('`')[0];
        if (type != expected) throw new InvalidDataException($"{path}: the saved optimizer is {type}, not {expected}.");
        var state = new Dictionary<string, Tensor<T>>();
        foreach (var (name, _) in optimizer.State())
        {
            if (!file.Contains(OptimizerPrefix + name)) throw new InvalidDataException($"{path}: optimizer state '{name}' is missing.");
            state[name] = file.Get<T>(OptimizerPrefix + name);
        }
        optimizer.LoadState(state, info["step"]!.GetValue<long>());
        if (info["hyperparameters"]?["lr"] is JsonNode lr) optimizer.LearningRate = lr.GetValue<double>();
    }

    /// <summary>The training position saved with the checkpoint, or null.</summary>
    public static TrainingState? ReadTrainingState(string path)
    {
        using var file = CheckpointFile.Open(path);
        string? json = file.GetText(TrainingEntry);
        return json is null ? null : JsonSerializer.Deserialize<TrainingState>(json, Architecture.Indented);
    }

    // The document architecture.json holds: format, version, dtype, the model's structure, the input shape and the metadata.
    private static JsonObject Document<T>(Module<T> model, IReadOnlyDictionary<string, string>? metadata, int[]? inputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var architecture = new JsonObject
        {
            ["format"] = Architecture.CheckpointFormat,
            ["version"] = Architecture.CheckpointVersion,
            ["dtype"] = typeof(T) == typeof(float) ? "float32" : "float64",
            ["model"] = Architecture.Describe(model),
        };
        if (inputShape is not null)
            architecture["input_shape"] = new JsonArray(inputShape.Select(d => (JsonNode)d).ToArray());
        if (metadata is not null)
            architecture["metadata"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        return architecture;
    }

    private static JsonNode ReadArchitecture(CheckpointFile file)
    {
        string path = file.Path;
        string entry = file.DescribeEntry(ArchitectureEntry);
        string json = file.GetText(ArchitectureEntry)
            ?? throw new InvalidDataException($"{path}: not a NeuralNet checkpoint (no {entry}; tensors: {string.Join(", ", file.Names)}). " +
                "For a PyTorch state_dict, build the model and use Checkpoint.ImportStateDict, or run 'nn import'.");
        try
        {
            return JsonNode.Parse(json) ?? throw new InvalidDataException($"{path}: {entry} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {entry} is not valid JSON: {e.Message}", e);
        }
    }

    private static void LoadWeights<T>(CheckpointFile file, Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string path = file.Path;
        foreach (var (name, tensor) in model.StateDict())
        {
            if (!file.Contains(name))
                throw new InvalidDataException($"{path}: the model needs '{name}' {tensor.Shape}, which the checkpoint lacks (it has: {string.Join(", ", file.Names)}).");
            var saved = file.Get<T>(name);
            if (saved.Shape != tensor.Shape)
                throw new ShapeMismatchException($"{path}: '{name}' has shape {saved.Shape} in the checkpoint, but the model's is {tensor.Shape}.");
            saved.CopyTo(tensor);
        }
    }
}
