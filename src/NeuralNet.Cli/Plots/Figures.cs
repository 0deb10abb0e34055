using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Cli.Plots;

public static class Figures
{
    public static void LossCurve(History history, string path, string title = "Loss") { }
    public static void AccuracyCurve(History history, string path, string title = "Accuracy") { }
    public static void ConfusionMatrix(long[,] confusion, IReadOnlyList<string> classNames, string path, string title = "Confusion matrix") { }
    public static void Misclassified(Tensor<float> images, IReadOnlyList<int> labels, IReadOnlyList<int> predicted, IReadOnlyList<string> classNames, string path, int maxImages = 32) { }
    public static void FirstLayerWeights(Tensor<float> weight, string path, int maxUnits = 64) { }
    public static void Comparison(IReadOnlyList<(string Name, History History)> runs, string path, string title) { }
}
