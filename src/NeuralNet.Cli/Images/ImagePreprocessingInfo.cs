using System.Text.Json;

namespace NeuralNet.Cli.Images;

/// <summary>
/// How an image-folder model's inputs are made, stored in its checkpoint's metadata (key "image_preprocessing"): the
/// class names (sorted folder names), the channels (1 grey, 3 RGB) and the size every picture is stretched to;
/// pixel values are in [0, 1].
/// </summary>
internal sealed record ImagePreprocessingInfo(string[] Classes, int Channels, int Width, int Height)
{
    public const string MetadataKey = "image_preprocessing";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static ImagePreprocessingInfo FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ImagePreprocessingInfo>(json, s_json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new CliException($"{source}: the stored image preprocessing is not valid: {e.Message}", 1);
        }
    }

    public int[] SampleShape => [Channels, Height, Width];
}
