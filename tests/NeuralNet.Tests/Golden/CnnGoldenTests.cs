using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Golden;

/// <summary>The CNN layers against PyTorch's float64 outputs and gradients (tools/golden/make_golden_cnn.py), to 1e-10.</summary>
public class CnnGoldenTests
{
    private const double Tol = 1e-10;
    private static readonly GoldenFile s_golden = GoldenFile.Load("cnn_layers.json");

    private static Tensor<double> G(string layer, string key) => GoldenFile.Tensor(s_golden[layer].GetProperty(key));

    private static int I(string layer, string key) => s_golden[layer].GetProperty(key).GetInt32();

    private static double D(string layer, string key) => s_golden[layer].GetProperty(key).GetDouble();

    [Theory]
    [InlineData("conv2d")]
    [InlineData("conv2d_k5")]
    public void Conv2d_matches_pytorch(string name)
    {
        var w = G(name, "weight");
        var conv = new Conv2d<double>(w.Shape[1], w.Shape[0], w.Shape[2], I(name, "stride"), I(name, "padding"));
        w.CopyTo(conv.Weight.Value);
        G(name, "bias").CopyTo(conv.Bias!.Value);

        AssertClose(G(name, "y"), conv.Forward(G(name, "x")), Tol, "y");
        conv.ZeroGrad();
        AssertClose(G(name, "dx"), conv.Backward(G(name, "dy")), Tol, "dx");
        AssertClose(G(name, "dweight"), conv.Weight.Grad, Tol, "dW");
        AssertClose(G(name, "dbias"), conv.Bias.Grad, Tol, "db");
    }

    [Theory]
    [InlineData("maxpool")]
    [InlineData("maxpool_overlap")]
    [InlineData("avgpool")]
    [InlineData("avgpool_overlap")]
    public void Pooling_matches_pytorch(string name)
    {
        int k = I(name, "kernel_size"), s = I(name, "stride");
        Module<double> pool = name.StartsWith("max", StringComparison.Ordinal) ? new MaxPool2d<double>(k, s) : new AvgPool2d<double>(k, s);
        var y = pool.Forward(G(name, "x"));
        Assert.Equal(G(name, "y").Shape, y.Shape);
        AssertClose(G(name, "y"), y, Tol, $"{name} y");
        AssertClose(G(name, "dx"), pool.Backward(G(name, "dy")), Tol, $"{name} dx");
    }

    [Theory]
    [InlineData("batchnorm2d")]
    [InlineData("batchnorm1d")]
    public void BatchNorm_training_and_eval_match_pytorch(string name)
    {
        var x = G(name, "x");
        int c = x.Shape[1];
        double eps = D(name, "eps"), momentum = D(name, "momentum");
        BatchNorm<double> bn = x.Rank == 4 ? new BatchNorm2d<double>(c, eps, momentum) : new BatchNorm1d<double>(c, eps, momentum);
        G(name, "weight").CopyTo(bn.Weight.Value);
        G(name, "bias").CopyTo(bn.Bias.Value);
        G(name, "running_mean0").CopyTo(bn.RunningMean);
        G(name, "running_var0").CopyTo(bn.RunningVar);

        // Training: batch statistics, and the running statistics move toward them (unbiased variance).
        AssertClose(G(name, "y"), bn.Forward(x), Tol, "train y");
        AssertClose(G(name, "running_mean"), bn.RunningMean, Tol, "running_mean");
        AssertClose(G(name, "running_var"), bn.RunningVar, Tol, "running_var");
        bn.ZeroGrad();
        AssertClose(G(name, "dx"), bn.Backward(G(name, "dy")), Tol, "train dx");
        AssertClose(G(name, "dweight"), bn.Weight.Grad, Tol, "train dγ");
        AssertClose(G(name, "dbias"), bn.Bias.Grad, Tol, "train dβ");

        // Evaluation: the running statistics, which it must not change.
        bn.Eval();
        bn.ZeroGrad();
        AssertClose(G(name, "eval_y"), bn.Forward(x), Tol, "eval y");
        AssertClose(G(name, "running_mean"), bn.RunningMean, Tol, "running_mean after eval");
        AssertClose(G(name, "eval_dx"), bn.Backward(G(name, "eval_dy")), Tol, "eval dx");
        AssertClose(G(name, "eval_dweight"), bn.Weight.Grad, Tol, "eval dγ");
        AssertClose(G(name, "eval_dbias"), bn.Bias.Grad, Tol, "eval dβ");
    }
}
