using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace NeuralNet.Cli.Serve;

/// <summary>
/// Reads <c>{"pixels": [v₀, v₁, …]}</c>: one sample of the model's input, row-major, checked value by value before
/// anything reaches the model. Other properties are ignored.
/// </summary>
internal static class PixelsRequest
{
    /// <summary>
    /// The sample in <paramref name="json"/>: exactly <paramref name="length"/> finite numbers, each within
    /// [<paramref name="min"/>, <paramref name="max"/>].
    /// </summary>
    /// <param name="shape">The sample's shape, named in the error when the count is wrong.</param>
    /// <exception cref="ProblemException">400, naming what is wrong: malformed JSON, no "pixels", a value that is no number, out of range or not finite, or the wrong count.</exception>
    public static float[] Parse(ReadOnlySpan<byte> json, int length, int[] shape, float min, float max)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Bad("Not a JSON object", "the body must be a JSON object: {\"pixels\": [numbers]}");
            float[]? pixels = null;
            bool features = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isPixels = reader.ValueTextEquals("pixels"u8);
                features |= reader.ValueTextEquals("features"u8);
                reader.Read();
                if (!isPixels)
                {
                    reader.Skip();
                    continue;
                }
                if (pixels is not null) throw Bad("Duplicate \"pixels\"", "\"pixels\" appears twice in the object");
                pixels = ReadArray(ref reader, length, shape, min, max);
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw Bad("Malformed JSON", "the JSON object is not closed");
            if (reader.Read()) throw Bad("Malformed JSON", $"text follows the JSON object at byte {reader.TokenStartIndex}");
            if (pixels is null && features)
                throw Bad("Model takes pixels", $"this model takes {{\"pixels\": [{length} numbers]}} ({string.Join("×", shape)}, row-major), not \"features\", which are for table models");
            return pixels ?? throw Bad("Missing \"pixels\"", "the object has no \"pixels\" property: send {\"pixels\": [numbers]}");
        }
        catch (JsonException e)
        {
            throw Bad("Malformed JSON", $"the body is not valid JSON: {e.Message}");
        }
    }

    private static float[] ReadArray(ref Utf8JsonReader reader, int length, int[] shape, float min, float max)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Bad("\"pixels\" is no array", $"\"pixels\" must be an array of {length} numbers, got {reader.TokenType}");
        var pixels = new float[length];
        int n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
                throw Bad("Not a number", $"pixels[{n}] is {reader.TokenType}, not a number (JSON has no NaN or Infinity)");
            // a double first, so that 1e39 is reported as out of range rather than becoming float infinity
            if (!reader.TryGetDouble(out double v) || !double.IsFinite(v))
                throw Bad("Value not finite", $"pixels[{n}] is not a finite number");
            if (v < min || v > max)
                throw Bad("Value out of range", string.Create(CultureInfo.InvariantCulture, $"pixels[{n}] is {v}; values must lie in [{min}, {max}]"));
            if (n < length) pixels[n] = (float)v;
            n++;
        }
        if (n != length)
            throw Bad("Wrong number of values", $"\"pixels\" has {n} values; the model takes {length} ({string.Join("×", shape)}), row-major");
        return pixels;
    }

    private static ProblemException Bad(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);
}
