using NeuralNet.Data;

namespace NeuralNet.Cli;

/// <summary>Makes decoded pictures into samples of the model's input shape.</summary>
internal sealed record Preparation(PreparationKind Kind, int[] SampleShape, int Height, int Width)
{
    /// <summary>The picture as the network sees it: Height×Width values in [0, 1], row by row.</summary>
    public float[] Apply(GreyImage image) => Kind switch
    {
        PreparationKind.MnistDigit => ImagePreprocessing.MnistDigit(image.Pixels, image.Width, image.Height),
        PreparationKind.FashionItem => ImagePreprocessing.FashionItem(image.Pixels, image.Width, image.Height),
        _ => ImagePreprocessing.Resize(image.Pixels, image.Width, image.Height, Width, Height),
    };

    public override string ToString() => Kind switch
    {
        PreparationKind.MnistDigit => "MNIST digit (ink to a 20-pixel box, centred by mass in 28×28)",
        PreparationKind.FashionItem => "Fashion-MNIST item (trimmed, fitted into 28×28, light on dark)",
        _ => $"grey, resized to {Width}×{Height}",
    };
}
