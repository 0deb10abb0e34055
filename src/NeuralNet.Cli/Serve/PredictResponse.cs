namespace NeuralNet.Cli.Serve;

/// <summary>
/// What <c>POST /api/predict</c> answers: the most probable class (index and name), softmax probabilities in class
/// order, the picture as the network saw it (uploads only) and each layer's output (on request).
/// </summary>
internal sealed record PredictResponse(int Prediction, string Label, double[] Probabilities, float[]? Preprocessed, List<LayerActivation>? Activations);
