using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Checkpoints;

/// <summary>
/// A checkpoint to resume training from exactly: a <see cref="Checkpoint"/> (weights, architecture, optimizer state,
/// metadata) plus the <see cref="FitState{T}"/> — best weights as <c>best.NAME</c> arrays; epochs so far, early-stopping
/// count, η₀ and the model's random sources (<see cref="Module{T}.NamedRandomSources"/>) in <c>fit_state.json</c>.
/// It is also an ordinary checkpoint: <see cref="Checkpoint.Load{T}"/> reads the weights of the last epoch.
/// </summary>
public static class TrainingCheckpoint
{
    private const string FitStateEntry = "fit_state.json";
    private const string BestPrefix = "best.";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN validation figures without a validation set
    };

    /// <summary>
    /// Writes the model, the optimizer and <paramref name="state"/> to <paramref name="path"/> atomically (a crash while
    /// writing leaves the previous file); <paramref name="inputShape"/> as in <see cref="Checkpoint.Save{T}"/>;
    /// <paramref name="more"/> adds entries of the caller's (e.g. its settings).
    /// </summary>
    public static void Save<T>(string path, Module<T> model, Optimizer<T> optimizer, FitState<T> state, ulong seed,
        IReadOnlyDictionary<string, string>? metadata = null, int[]? inputShape = null, Action<NpzWriter>? more = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        var names = model.StateDict().Select(s => s.Name).ToArray();
        if (names.Length != state.BestWeights.Count)
            throw new ArgumentException($"TrainingCheckpoint.Save: the state keeps {state.BestWeights.Count} best-weight tensors, the model has {names.Length}.", nameof(state));
        double baseLr = state.BaseLearningRate ?? optimizer.LearningRate;
        var saved = new SavedFitState
        {
            NextEpoch = state.NextEpoch,
            BaseLearningRate = baseLr,
            BestLoss = state.BestLoss,
            EpochsSinceBest = state.EpochsSinceBest,
            BestEpoch = state.History.BestEpoch,
            Epochs = state.History.Epochs.ToArray(),
            RandomSources = model.NamedRandomSources().ToDictionary(r => r.Name, r => r.Rng.GetState().Select(w => w.ToString("x16", CultureInfo.InvariantCulture)).ToArray()),
        };
        Checkpoint.Save(path, model, optimizer, new TrainingState(state.NextEpoch, seed, baseLr), metadata, inputShape, w =>
        {
            for (int i = 0; i < names.Length; i++) w.Add(BestPrefix + names[i], state.BestWeights[i]);
            w.AddText(FitStateEntry, JsonSerializer.Serialize(saved, s_json));
            more?.Invoke(w);
        });
    }

    /// <summary>
    /// Loads the weights, the optimizer's state and the model's random sources stored at <paramref name="path"/> into
    /// <paramref name="model"/> and <paramref name="optimizer"/> (built as for the saved run) and returns the saved state.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is no resumable checkpoint, or does not fit the model or optimizer; the message names the file.</exception>
    public static FitState<T> Load<T>(string path, Module<T> model, Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        SavedFitState saved;
        var state = new FitState<T>(model);
        using (var npz = new NpzReader(path))
        {
            string json = npz.GetText(FitStateEntry)
                ?? throw new InvalidDataException($"{path}: no {FitStateEntry}; this checkpoint holds weights only and cannot resume training.");
            try
            {
                saved = JsonSerializer.Deserialize<SavedFitState>(json, s_json) ?? throw new InvalidDataException($"{path}: {FitStateEntry} is empty.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: {FitStateEntry} is not valid: {e.Message}", e);
            }
            int i = 0;
            foreach (var (name, tensor) in model.StateDict())
            {
                var best = state.BestWeights[i++];
                if (!npz.Contains(BestPrefix + name)) throw new InvalidDataException($"{path}: the best weights lack '{name}'.");
                var t = npz.Get<T>(BestPrefix + name);
                if (t.Shape != tensor.Shape)
                    throw new InvalidDataException($"{path}: best '{name}' has shape {t.Shape}, but the model's is {tensor.Shape}.");
                t.CopyTo(best);
            }
        }
        Checkpoint.LoadInto(path, model);
        Checkpoint.LoadOptimizer(path, optimizer);

        var sources = saved.RandomSources ?? [];
        foreach (var (name, rng) in model.NamedRandomSources())
        {
            if (!sources.TryGetValue(name, out var words) || words.Length != 6)
                throw new InvalidDataException($"{path}: the model's random source '{name}' has no saved state (saved: {string.Join(", ", sources.Keys)}).");
            var state6 = new ulong[6];
            for (int w = 0; w < 6; w++)
                if (!ulong.TryParse(words[w], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out state6[w]))
                    throw new InvalidDataException($"{path}: random source '{name}': '{words[w]}' is not a 64-bit hex word.");
            rng.SetState(state6);
        }

        if (saved.NextEpoch < 0 || saved.Epochs is null || saved.Epochs.Length != saved.NextEpoch)
            throw new InvalidDataException($"{path}: {FitStateEntry} says {saved.NextEpoch} epochs were completed but lists {saved.Epochs?.Length ?? 0}.");
        state.NextEpoch = saved.NextEpoch;
        state.BaseLearningRate = saved.BaseLearningRate;
        state.BestLoss = saved.BestLoss;
        state.EpochsSinceBest = saved.EpochsSinceBest;
        foreach (var record in saved.Epochs) state.History.Add(record);
        state.History.BestEpoch = saved.BestEpoch;
        return state;
    }

    /// <summary>fit_state.json.</summary>
    private sealed record SavedFitState
    {
        [JsonPropertyName("next_epoch")] public int NextEpoch { get; init; }

        [JsonPropertyName("base_learning_rate")] public double BaseLearningRate { get; init; }

        [JsonPropertyName("best_loss")] public double BestLoss { get; init; }

        [JsonPropertyName("epochs_since_best")] public int EpochsSinceBest { get; init; }

        [JsonPropertyName("best_epoch")] public int BestEpoch { get; init; }

        [JsonPropertyName("epochs")] public EpochRecord[]? Epochs { get; init; }

        [JsonPropertyName("random_sources")] public Dictionary<string, string[]>? RandomSources { get; init; }
    }
}
