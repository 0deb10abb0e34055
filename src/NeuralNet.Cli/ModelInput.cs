using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Modules;

namespace NeuralNet.Cli;

/// <summary>What a saved model takes as input, and how a picture is made into it.</summary>
internal static class ModelInput
{
    /// <summary>
    /// The shape of one input sample, without the batch dimension: <paramref name="stored"/>, the shape saved with the
    /// checkpoint, when there is one; otherwise told by the model's first layer: Linear → [in], Conv2d →
    /// [in_channels, 28, 28] (a convolution works at any size; nn trains its CNNs on 28×28 MNIST-style images).
    /// </summary>
    public static int[] Shape(Module<float> model, int[]? stored = null)
    {
        if (stored is not null) return stored;
        Module<float>? first = model is Sequential<float> s ? (s.Count > 0 ? s[0] : null) : model;
        return first switch
        {
            Linear<float> linear => [linear.InFeatures],
            Conv2d<float> conv => [conv.InChannels, ImagePreprocessing.Side, ImagePreprocessing.Side],
            _ => throw new CliException($"cannot tell what input the model takes: it starts with {first?.ToString() ?? "nothing"}, not a Linear or Conv2d layer, and the checkpoint holds no input shape", 1),
        };
    }

    /// <summary>How pictures become inputs of a model whose samples have <paramref name="shape"/>.</summary>
    /// <param name="shape">From <see cref="Shape"/>.</param>
    /// <param name="dataset">The data set the model was trained on ("mnist", "fashion-mnist"), or null when unknown.</param>
    public static Preparation For(int[] shape, string? dataset)
    {
        int height, width;
        if (shape.Length == 3)
        {
            if (shape[0] != 1) throw new CliException($"the model takes {shape[0]}-channel images; nn predict makes grey (1-channel) ones", 1);
            (height, width) = (shape[1], shape[2]);
        }
        else if (shape.Length == 1)
        {
            // A flat input is a square image, row by row: 784 = 28×28.
            int side = (int)Math.Round(Math.Sqrt(shape[0]));
            if (side * side != shape[0]) throw new CliException($"the model takes {shape[0]} features, which are no square grey image", 1);
            (height, width) = (side, side);
        }
        else throw new CliException($"the model takes inputs of shape [{string.Join(", ", shape)}], which no picture maps to", 1);

        var kind = (height, width) != (ImagePreprocessing.Side, ImagePreprocessing.Side) ? PreparationKind.Resize
            : dataset == "fashion-mnist" ? PreparationKind.FashionItem
            : PreparationKind.MnistDigit;
        return new Preparation(kind, shape, height, width);
    }
}
