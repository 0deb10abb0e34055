using System.Numerics;
using NeuralNet.Modules;

namespace NeuralNet.Onnx;

/// <summary>What <see cref="Onnx.Import{T}(string)"/> read: the model and what the graph said about it.</summary>
/// <param name="Model">The chain of layers, in evaluation mode (as the graph computes); <c>Train()</c> it to fine-tune.</param>
/// <param name="InputShape">One sample's input shape without the batch dimension, when the graph fixes every extent after
/// the first (e.g. [1, 28, 28]); null when some are symbolic or the input is 1-D.</param>
/// <param name="OutputShape">One sample's output shape likewise, or null.</param>
/// <param name="InputName">The graph input's name.</param>
/// <param name="OutputName">The graph output's name.</param>
/// <param name="InputType">The graph input's element type: "float32" or "float64".</param>
/// <param name="OpsetVersion">The version of the default operator set the file uses.</param>
/// <param name="Producer">producer_name and producer_version ("pytorch 1.13.0"), or "" when the file does not say.</param>
/// <param name="NodeCount">Nodes in the graph (constants and shape arithmetic included).</param>
/// <param name="Summary">The model's one-line summary (<see cref="Checkpoints.Architecture.Summary{T}"/>).</param>
public sealed record OnnxImportResult<T>(Sequential<T> Model, int[]? InputShape, int[]? OutputShape, string InputName, string OutputName,
    string InputType, long OpsetVersion, string Producer, int NodeCount, string Summary)
    where T : unmanaged, IFloatingPointIeee754<T>;
