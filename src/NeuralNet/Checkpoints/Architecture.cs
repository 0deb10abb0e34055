using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Modules;

namespace NeuralNet.Checkpoints;

/// <summary>
/// A model's structure as JSON, so that a checkpoint can rebuild the model without code:
/// <c>{"type":"Sequential","layers":[{"type":"Linear","in_features":784,"out_features":128,"bias":true},{"type":"ReLU"},…]}</c>.
/// </summary>
public static class Architecture
{
    /// <summary>Describes <paramref name="module"/>; throws for a module type that cannot be described.</summary>
    public static JsonObject Describe<T>(Module<T> module) where T : unmanaged, IFloatingPointIeee754<T> => module switch
    {
        Sequential<T> s => new JsonObject { ["type"] = "Sequential", ["layers"] = new JsonArray(s.Modules.Select(m => (JsonNode)Describe(m)).ToArray()) },
        Linear<T> l => new JsonObject { ["type"] = "Linear", ["in_features"] = l.InFeatures, ["out_features"] = l.OutFeatures, ["bias"] = l.Bias is not null },
        ReLU<T> => new JsonObject { ["type"] = "ReLU" },
        LeakyReLU<T> r => new JsonObject { ["type"] = "LeakyReLU", ["negative_slope"] = double.CreateChecked(r.NegativeSlope) },
        Sigmoid<T> => new JsonObject { ["type"] = "Sigmoid" },
        Tanh<T> => new JsonObject { ["type"] = "Tanh" },
        Softmax<T> => new JsonObject { ["type"] = "Softmax" },
        Conv2d<T> c => new JsonObject
        {
            ["type"] = "Conv2d", ["in_channels"] = c.InChannels, ["out_channels"] = c.OutChannels, ["kernel_size"] = c.KernelSize,
            ["stride"] = c.Stride, ["padding"] = c.Padding, ["bias"] = c.Bias is not null,
        },
        MaxPool2d<T> p => new JsonObject { ["type"] = "MaxPool2d", ["kernel_size"] = p.KernelSize, ["stride"] = p.Stride },
        AvgPool2d<T> p => new JsonObject { ["type"] = "AvgPool2d", ["kernel_size"] = p.KernelSize, ["stride"] = p.Stride },
        Flatten<T> => new JsonObject { ["type"] = "Flatten" },
        BatchNorm1d<T> b => new JsonObject { ["type"] = "BatchNorm1d", ["num_features"] = b.NumFeatures, ["eps"] = b.Eps, ["momentum"] = b.Momentum },
        BatchNorm2d<T> b => new JsonObject { ["type"] = "BatchNorm2d", ["num_features"] = b.NumFeatures, ["eps"] = b.Eps, ["momentum"] = b.Momentum },
        Dropout<T> d => new JsonObject { ["type"] = "Dropout", ["p"] = d.P },
        _ => throw new NotSupportedException($"Architecture: cannot describe a {module.GetType().Name}; checkpoints support Sequential, Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d, Dropout and the activations."),
    };

    /// <summary>The format name a checkpoint's architecture.json carries in its "format" field.</summary>
    public const string CheckpointFormat = "neuralnet-checkpoint";

    /// <summary>The newest checkpoint document version this library reads and the one it writes.</summary>
    public const int CheckpointVersion = 1;

    /// <summary>
    /// Builds a fresh (untrained) module from JSON text that is either a checkpoint's architecture.json
    /// (<c>{"format":"neuralnet-checkpoint","version":1,"dtype":…,"model":{…},"metadata":{…},"input_shape":[…]}</c>)
    /// or a bare model description (<c>{"type":"Sequential","layers":[…]}</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">The text is not JSON, or is neither kind of document; the message says which.</exception>
    public static Module<T> Parse<T>(string json) where T : unmanaged, IFloatingPointIeee754<T> => BuildFromDocument<T>(ParseDocument(json));

    /// <summary>Parses architecture JSON text into a node, turning a syntax error into an <see cref="InvalidDataException"/>.</summary>
    public static JsonNode ParseDocument(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            // A key given twice is refused here: JsonObject would otherwise throw ArgumentException on first use.
            return JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) ?? throw new InvalidDataException("Architecture: the document is JSON null, not an object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Architecture: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Builds a fresh (untrained) module from a parsed document of either kind <see cref="Parse{T}"/> accepts: a
    /// checkpoint's stored document (its "model" is built) or a bare description (built as it is).
    /// </summary>
    public static Module<T> BuildFromDocument<T>(JsonNode document) where T : unmanaged, IFloatingPointIeee754<T> =>
        Build<T>(ModelNode(document));

    /// <summary>
    /// <see cref="BuildFromDocument{T}(JsonNode)"/>, refusing (before allocating) a description whose layers hold more than
    /// <paramref name="maxElements"/> parameter and buffer elements in all: for text from an untrusted source.
    /// </summary>
    /// <exception cref="InvalidDataException">The description is malformed or asks for more than <paramref name="maxElements"/> elements.</exception>
    public static Module<T> BuildFromDocument<T>(JsonNode document, long maxElements) where T : unmanaged, IFloatingPointIeee754<T> =>
        Build<T>(ModelNode(document), new Budget(maxElements));

    /// <summary>
    /// The model description inside <paramref name="document"/>: the document itself when it has a "type" (a bare
    /// description), else its "model" (a checkpoint's document, whose "format" and "version" are checked when present).
    /// </summary>
    public static JsonNode ModelNode(JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document is not JsonObject obj)
            throw new InvalidDataException($"Architecture: expected a JSON object, got {document.GetValueKind()}.");
        if (obj.ContainsKey("type")) return obj;
        if (obj["format"] is JsonNode format && (format.GetValueKind() != JsonValueKind.String || format.GetValue<string>() != CheckpointFormat))
            throw new InvalidDataException($"Architecture: \"format\" is {format.ToJsonString()}, expected \"{CheckpointFormat}\".");
        if (obj["version"] is JsonNode version && !(TryInt(version, out int v) && v >= 1 && v <= CheckpointVersion))
            throw new InvalidDataException($"Architecture: document version {version.ToJsonString()} is not one this library reads (1 to {CheckpointVersion}).");
        return obj["model"] ?? throw new InvalidDataException(
            "Architecture: the document has neither \"type\" (a bare model description such as {\"type\":\"Sequential\",\"layers\":[…]}) " +
            "nor \"model\" (a checkpoint's architecture.json); keys: " + (obj.Count == 0 ? "(none)" : string.Join(", ", obj.Select(kv => kv.Key))) + ".");
    }

    /// <summary>
    /// The model's input shape without the batch dimension stored in a checkpoint document's "input_shape"
    /// (e.g. [784] or [1, 28, 28]); null when absent, as in a bare description or an older checkpoint.
    /// </summary>
    /// <exception cref="InvalidDataException">"input_shape" is present but not a non-empty array of positive integers.</exception>
    public static int[]? InputShape(JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document is not JsonObject obj || obj.ContainsKey("type") || obj["input_shape"] is not JsonNode node) return null;
        if (node is JsonArray array && array.Count > 0)
        {
            var shape = new int[array.Count];
            bool ok = true;
            for (int i = 0; i < shape.Length && ok; i++) ok = array[i] is JsonNode d && TryInt(d, out shape[i]) && shape[i] > 0;
            if (ok) return shape;
        }
        throw new InvalidDataException($"Architecture: \"input_shape\" must be a non-empty array of positive integers (the input without the batch dimension, e.g. [784] or [1,28,28]), got {node.ToJsonString()}.");
    }

    /// <summary>Checks an input shape for <see cref="Checkpoint"/> and the exporters: non-empty, every extent ≥ 1.</summary>
    internal static void CheckInputShape(int[] inputShape, string who)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"{who}: the input shape without the batch dimension must have positive extents, e.g. [784] or [1, 28, 28]; got [{string.Join(", ", inputShape)}].", nameof(inputShape));
    }

    private static bool TryInt(JsonNode node, out int value)
    {
        value = 0;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out value);
    }

    /// <summary>Builds a fresh (untrained) module from a description written by <see cref="Describe{T}"/>.</summary>
    public static Module<T> Build<T>(JsonNode node) where T : unmanaged, IFloatingPointIeee754<T> => Build<T>(node, new Budget(long.MaxValue));

    // How many parameter and buffer elements the layers still built may allocate; each tensor also stays below 2³¹.
    private sealed class Budget(long left)
    {
        public void Take(string type, params Int128[] tensors)
        {
            Int128 total = 0;
            foreach (Int128 t in tensors)
            {
                if (t > int.MaxValue)
                    throw new InvalidDataException($"Architecture: {type} would need a tensor of {t} elements, more than one tensor can hold ({int.MaxValue}).");
                total += t;
            }
            if (total > left)
                throw new InvalidDataException($"Architecture: {type} would need {total} more elements, over what is left of the limit ({left}).");
            left -= (long)total;
        }
    }

    private static Module<T> Build<T>(JsonNode node, Budget budget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (node is not JsonObject)
            throw new InvalidDataException($"Architecture: a model description must be an object such as {{\"type\":\"Sequential\",\"layers\":[…]}}, got {node.ToJsonString()}.");
        string type = node["type"] is JsonValue tv && tv.GetValueKind() == JsonValueKind.String ? tv.GetValue<string>()
            : throw new InvalidDataException($"Architecture: a layer has no \"type\" string: {node.ToJsonString()}");
        int Int(string key) => node[key] switch
        {
            null => throw new InvalidDataException($"Architecture: {type} lacks \"{key}\"."),
            JsonNode n when TryInt(n, out int i) => i,
            JsonNode n => throw new InvalidDataException($"Architecture: {type} \"{key}\" must be an integer, got {n.ToJsonString()}."),
        };
        double Real(string key, double fallback) => node[key]?.GetValue<double>() ?? fallback;
        bool HasBias() => node["bias"] is not JsonValue b || b.GetValueKind() != JsonValueKind.False;
        // Extents first, checked against the budget before any layer allocates.
        switch (type)
        {
            case "Linear":
                budget.Take(type, (Int128)Int("in_features") * Int("out_features"), HasBias() ? Int("out_features") : 0);
                break;
            case "Conv2d":
                budget.Take(type, (Int128)Int("in_channels") * Int("out_channels") * Int("kernel_size") * Int("kernel_size"), HasBias() ? Int("out_channels") : 0);
                break;
            case "BatchNorm1d" or "BatchNorm2d":
                budget.Take(type, (Int128)Int("num_features") * 4);
                break;
        }
        return type switch
        {
            "Sequential" => new Sequential<T>((node["layers"] as JsonArray ?? throw new InvalidDataException("Architecture: Sequential lacks \"layers\"."))
                .Select((n, i) => BuildLayer<T>(n, i, budget)).ToArray()),
            "Linear" => new Linear<T>(Int("in_features"), Int("out_features"), bias: node["bias"]?.GetValue<bool>() ?? true),
            "ReLU" => new ReLU<T>(),
            "LeakyReLU" => new LeakyReLU<T>(node["negative_slope"]?.GetValue<double>() ?? 0.01),
            "Sigmoid" => new Sigmoid<T>(),
            "Tanh" => new Tanh<T>(),
            "Softmax" => new Softmax<T>(),
            "Conv2d" => new Conv2d<T>(Int("in_channels"), Int("out_channels"), Int("kernel_size"), node["stride"]?.GetValue<int>() ?? 1,
                node["padding"]?.GetValue<int>() ?? 0, node["bias"]?.GetValue<bool>() ?? true),
            "MaxPool2d" => new MaxPool2d<T>(Int("kernel_size"), node["stride"]?.GetValue<int>()),
            "AvgPool2d" => new AvgPool2d<T>(Int("kernel_size"), node["stride"]?.GetValue<int>()),
            "Flatten" => new Flatten<T>(),
            "BatchNorm1d" => new BatchNorm1d<T>(Int("num_features"), Real("eps", 1e-5), Real("momentum", 0.1)),
            "BatchNorm2d" => new BatchNorm2d<T>(Int("num_features"), Real("eps", 1e-5), Real("momentum", 0.1)),
            "Dropout" => new Dropout<T>(Real("p", 0.5)),
            _ => throw new InvalidDataException($"Architecture: unknown layer type '{type}'."),
        };
    }

    /// <summary>Builds layer <paramref name="index"/> of a Sequential, naming the index (and the field) in any error.</summary>
    private static Module<T> BuildLayer<T>(JsonNode? node, int index, Budget budget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (node is not JsonObject)
            throw new InvalidDataException($"Architecture: layer {index} must be an object such as {{\"type\":\"Linear\",\"in_features\":4,\"out_features\":8}}, got {node?.ToJsonString() ?? "null"}.");
        try
        {
            return Build<T>(node, budget);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("Architecture: layer ", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Architecture: layer {index}: {e.Message["Architecture: ".Length..]}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            // A field of the wrong JSON kind ("bias": "yes") or a value the layer refuses (out_features 0).
            string type = node["type"] is JsonValue v && v.TryGetValue(out string? t) ? t : "?";
            throw new InvalidDataException($"Architecture: layer {index} ({type}): {e.Message}", e);
        }
    }

    /// <summary>A compact one-line summary: "MLP 784→128→10", or "CNN 1→32→64, 3136→128→10" (conv channels, then the linear widths).</summary>
    public static string Summary<T>(Module<T> module) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (module is Sequential<T> cnn && cnn.Modules.OfType<Conv2d<T>>().Any())
        {
            var convs = cnn.Modules.OfType<Conv2d<T>>().ToList();
            var channels = new List<int> { convs[0].InChannels };
            channels.AddRange(convs.Select(c => c.OutChannels));
            string text = "CNN " + string.Join("→", channels.Select(x => x.ToString(CultureInfo.InvariantCulture)));
            var fcs = cnn.Modules.OfType<Linear<T>>().ToList();
            if (fcs.Count == 0) return text;
            var widths = new List<int> { fcs[0].InFeatures };
            widths.AddRange(fcs.Select(l => l.OutFeatures));
            return text + ", " + string.Join("→", widths.Select(x => x.ToString(CultureInfo.InvariantCulture)));
        }
        if (module is Sequential<T> s && s.Modules.OfType<Linear<T>>().Any())
        {
            var linears = s.Modules.OfType<Linear<T>>().ToList();
            var sizes = new List<int> { linears[0].InFeatures };
            sizes.AddRange(linears.Select(l => l.OutFeatures));
            return "MLP " + string.Join("→", sizes.Select(x => x.ToString(CultureInfo.InvariantCulture)));
        }
        return module.GetType().Name.Split('`')[0];
    }

    // NOTE: a hyperparameter or figure may be infinite or NaN; it is written as the string "Infinity" or "NaN", not refused.
    internal static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
