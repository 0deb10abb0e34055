using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using Tensor = NeuralNet.Tensors.Tensor<float>;
using NeuralNet.Tests.Data;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// The README's "ONNX Runtime from C#" example, run: the method below is the README's code, character for character
/// (a test checks the README still holds it), and its logits must be our model's.
/// </summary>
public sealed class ReadmeOnnxRuntimeExampleTests
{
    // README begin
    static float[] Logits(string onnxPath, float[] pixels)    // pixels: one 28×28 image, row by row, values in [0, 1]
    {
        using var session = new InferenceSession(onnxPath);
        var input = new DenseTensor<float>(pixels, [1, pixels.Length]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        return results[0].AsEnumerable<float>().ToArray();    // "logits": one raw score per class
    }
    // README end

    [Fact]
    public void The_readme_example_runs_an_exported_mlp_and_gives_our_logits()
    {
        using var dir = new TempDir();
        var rng = new Rng(3);
        var model = new Sequential<float>(new Linear<float>(784, 32, rng: rng), new NeuralNet.Activations.ReLU<float>(), new Linear<float>(32, 10, rng: rng));
        model.Eval();
        string path = dir["model.onnx"];
        NeuralNet.Onnx.Onnx.Export(model, path, [784]);
        var pixels = Tensor.RandomUniform(rng, 0, 1, 1, 784);

        float[] theirs = Logits(path, pixels.ToArray());

        TestUtil.AssertClose(model.Forward(pixels), Tensor.FromArray(theirs, 1, 10), OnnxOracle.Tolerance, "README example vs ours");
    }

    [Fact]
    public void The_readme_holds_the_example_as_it_is_here()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "README.md"))) root = Path.GetDirectoryName(root) ?? throw new FileNotFoundException("README.md above " + AppContext.BaseDirectory);
        string source = File.ReadAllText(Path.Combine(root, "tests/NeuralNet.Tests/Onnx/ReadmeOnnxRuntimeExampleTests.cs"));
        int begin = source.IndexOf("// README begin\n", StringComparison.Ordinal) + "// README begin\n".Length;
        int end = source.IndexOf("    // README end", StringComparison.Ordinal);
        var example = source[begin..end].Split('\n').Select(l => l.Length >= 4 ? l[4..] : l.TrimStart());
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
        Assert.Contains(string.Join('\n', example).TrimEnd(), readme);
    }
}
