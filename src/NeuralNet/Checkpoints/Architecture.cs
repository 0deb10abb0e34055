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
        _ => throw new NotSupportedException($"Architecture: cannot describe a {module.GetType().Name}; checkpoints support Sequential, Linear and the activations."),
    };

    /// <summary>Builds a fresh (untrained) module from a description written by <see cref="Describe{T}"/>.</summary>
    public static Module<T> Build<T>(JsonNode node) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string type = node["type"]?.GetValue<string>() ?? throw new InvalidDataException($"Architecture: a layer has no \"type\": {node.ToJsonString()}");
        int Int(string key) => node[key]?.GetValue<int>() ?? throw new InvalidDataException($"Architecture: {type} lacks \"{key}\".");
        return type switch
        {
            "Sequential" => new Sequential<T>((node["layers"] as JsonArray ?? throw new InvalidDataException("Architecture: Sequential lacks \"layers\"."))
                .Select(n => Build<T>(n!)).ToArray()),
            "Linear" => new Linear<T>(Int("in_features"), Int("out_features"), bias: node["bias"]?.GetValue<bool>() ?? true),
            "ReLU" => new ReLU<T>(),
            "LeakyReLU" => new LeakyReLU<T>(node["negative_slope"]?.GetValue<double>() ?? 0.01),
            "Sigmoid" => new Sigmoid<T>(),
            "Tanh" => new Tanh<T>(),
            "Softmax" => new Softmax<T>(),
            _ => throw new InvalidDataException($"Architecture: unknown layer type '{type}'."),
        };
    }

    /// <summary>A compact one-line summary, e.g. "784-128-64-10 (Linear, ReLU, …)".</summary>
    public static string Summary<T>(Module<T> module) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (module is Sequential<T> s && s.Modules.OfType<Linear<T>>().Any())
        {
            var linears = s.Modules.OfType<Linear<T>>().ToList();
            var sizes = new List<int> { linears[0].InFeatures };
            sizes.AddRange(linears.Select(l => l.OutFeatures));
            return "MLP " + string.Join("→", sizes.Select(x => x.ToString(CultureInfo.InvariantCulture)));
        }
        return module.GetType().Name.Split('`')[0];
    }

    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
