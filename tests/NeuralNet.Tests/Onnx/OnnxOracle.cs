using System.Numerics;
using Microsoft.ML.OnnxRuntime;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Onnx;

/// <summary>ONNX Runtime as the oracle: runs an exported file and compares its output with our forward pass.</summary>
internal static class OnnxOracle
{
    /// <summary>|ours − ONNX Runtime| ≤ Tolerance·max(1, |ours|) per element.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>A session on the exported bytes, one thread (the test machines have two cores, shared with our kernels).</summary>
    public static InferenceSession Session(byte[] model)
    {
        // All graph optimizations on (the default a user gets): ONNX Runtime then folds BatchNormalization into the
        // preceding Conv, so the comparison also covers the file as engines rewrite it.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        return new InferenceSession(model, options);
    }

    /// <summary>Runs the graph's "input" → "logits" on <paramref name="x"/> (float32); returns the output and its shape.</summary>
    public static (float[] Values, long[] Shape) Run(InferenceSession session, float[] x, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [NeuralNet.Onnx.Onnx.InputName], [input], [NeuralNet.Onnx.Onnx.OutputName]);
        var y = outputs[0];
        return (y.GetTensorDataAsSpan<float>().ToArray(), y.GetTensorTypeAndShape().Shape);
    }

    /// <summary>The exported bytes of <paramref name="model"/> and the export's report.</summary>
    public static (byte[] Bytes, NeuralNet.Onnx.OnnxExportResult Result) Export<T>(Module<T> model, int[] inputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        var result = NeuralNet.Onnx.Onnx.Export(model, stream, inputShape);
        Assert.Equal(stream.Length, result.Bytes);
        return (stream.ToArray(), result);
    }

    /// <summary>
    /// Exports <paramref name="model"/>, runs random batches of each size through ONNX Runtime and through our forward
    /// pass in evaluation mode, asserts they agree within <see cref="Tolerance"/> and returns the largest |Δ| seen, absolute
    /// and relative to max(1, |y|). Inputs are N(0, <paramref name="scale"/>²), or U(0, 1) like image pixels when
    /// <paramref name="pixels"/>.
    /// </summary>
    public static (double Absolute, double Relative) AssertMatches<T>(Module<T> model, int[] inputShape, int[] batchSizes, ulong seed,
        double scale = 1, bool pixels = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        model.Eval();
        var (bytes, result) = Export(model, inputShape);
        using var session = Session(bytes);
        var rng = new Rng(seed);
        double worst = 0, worstRelative = 0;
        foreach (int n in batchSizes)
        {
            var x = pixels ? Tensor<T>.RandomUniform(rng, 0, 1, [n, .. inputShape]) : Tensor<T>.RandomNormal(rng, 0, scale, [n, .. inputShape]);
            var ours = model.Forward(x);
            float[] xf = x.ToArray().Select(float.CreateTruncating).ToArray();
            var (theirs, shape) = Run(session, xf, [n, .. inputShape.Select(d => (long)d)]);
            Assert.Equal([n, .. ours.Shape.ToArray()[1..]], shape.Select(d => (int)d).ToArray());
            Assert.Equal(ours.Shape.ToArray()[1..], result.OutputShape);
            var y = ours.ReadOnlySpan;
            for (int i = 0; i < y.Length; i++)
            {
                double expected = double.CreateChecked(y[i]), delta = Math.Abs(expected - theirs[i]);
                Assert.True(delta <= Tolerance * Math.Max(1, Math.Abs(expected)),
                    $"batch {n}, element {i}: ours {expected:R}, ONNX Runtime {theirs[i]:R} (|Δ| {delta:E2})");
                worst = Math.Max(worst, delta);
                worstRelative = Math.Max(worstRelative, delta / Math.Max(1, Math.Abs(expected)));
            }
        }
        return (worst, worstRelative);
    }
}
