using System.Text.Json;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Golden;

/// <summary>Reads the golden values written by tools/golden/make_golden.py (PyTorch, float64).</summary>
internal sealed class GoldenFile
{
    private readonly JsonElement _root;

    private GoldenFile(JsonElement root) => _root = root;

    public static GoldenFile Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return new GoldenFile(doc.RootElement.Clone());
    }

    public JsonElement this[string key] => _root.GetProperty(key);

    public static Tensor<double> Tensor(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number) return Tensor<double>.Scalar(e.GetDouble());
        var dims = new List<int>();
        var probe = e;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            dims.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0) break;
            probe = probe[0];
        }
        var values = new List<double>();
        Flatten(e, values);
        return Tensor<double>.FromArray(values.ToArray(), dims.ToArray());

        static void Flatten(JsonElement x, List<double> into)
        {
            if (x.ValueKind == JsonValueKind.Array)
                foreach (var item in x.EnumerateArray()) Flatten(item, into);
            else into.Add(x.GetDouble());
        }
    }

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
