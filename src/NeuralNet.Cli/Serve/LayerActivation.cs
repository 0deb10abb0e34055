namespace NeuralNet.Cli.Serve;

/// <summary>One layer's output for one sample: its name in the model ("0", "1", …), type, description, shape without the batch dimension, and values row-major.</summary>
internal sealed record LayerActivation(string Name, string Type, string Layer, int[] Shape, float[] Values);
