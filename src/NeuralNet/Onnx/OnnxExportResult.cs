namespace NeuralNet.Onnx;

/// <summary>What <see cref="Onnx.Export{T}(Modules.Module{T}, string, int[])"/> wrote.</summary>
/// <param name="Bytes">The file's size.</param>
/// <param name="InputShape">One sample's input shape, without the batch dimension: the graph input is (N, …this).</param>
/// <param name="OutputShape">One sample's output shape: the graph output "logits" is (N, …this).</param>
/// <param name="NodeCount">Operators in the graph (dropout layers add none).</param>
/// <param name="ConvertedFromFloat64">True when the model was float64 and its weights were rounded to float32.</param>
/// <param name="Summary">The model's one-line summary (<see cref="Checkpoints.Architecture.Summary{T}"/>), also the file's doc_string.</param>
public sealed record OnnxExportResult(long Bytes, int[] InputShape, int[] OutputShape, int NodeCount, bool ConvertedFromFloat64, string Summary);
