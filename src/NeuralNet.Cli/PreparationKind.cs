using NeuralNet.Data;

namespace NeuralNet.Cli;

/// <summary>How <see cref="Preparation"/> makes a picture into a model input.</summary>
internal enum PreparationKind
{
    /// <summary><see cref="ImagePreprocessing.MnistDigit"/>.</summary>
    MnistDigit,

    /// <summary><see cref="ImagePreprocessing.FashionItem"/>.</summary>
    FashionItem,

    /// <summary><see cref="ImagePreprocessing.Resize"/> of the grey values to the input's size.</summary>
    Resize,
}
