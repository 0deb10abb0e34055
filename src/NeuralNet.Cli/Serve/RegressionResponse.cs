namespace NeuralNet.Cli.Serve;

/// <summary>What <c>POST /api/predict</c> answers for a regression table model: the predicted target on its original scale.</summary>
internal sealed record RegressionResponse(double Prediction);
