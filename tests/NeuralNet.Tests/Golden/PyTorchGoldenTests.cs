using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using static NeuralNet.Tests.TestUtil;

namespace NeuralNet.Tests.Golden;

/// <summary>Every layer, activation and loss against PyTorch's float64 outputs and gradients (to 1e-10).</summary>
public class PyTorchGoldenTests
{
    private const double Tol = 1e-10;
    private static readonly GoldenFile s_golden = GoldenFile.Load("layers.json");

    private static Tensor<double> G(string layer, string key) => GoldenFile.Tensor(s_golden[layer].GetProperty(key));

    [Fact]
    public void Linear_matches_pytorch()
    {
        var w = G("linear", "weight");
        var layer = new Linear<double>(w.Shape[1], w.Shape[0]);
        w.CopyTo(layer.Weight.Value);
        G("linear", "bias").CopyTo(layer.Bias!.Value);

        var y = layer.Forward(G("linear", "x"));
        AssertClose(G("linear", "y"), y, Tol, "y");
        layer.ZeroGrad();
        var dx = layer.Backward(G("linear", "dy"));
        AssertClose(G("linear", "dx"), dx, Tol, "dx");
        AssertClose(G("linear", "dweight"), layer.Weight.Grad, Tol, "dW");
        AssertClose(G("linear", "dbias"), layer.Bias.Grad, Tol, "db");
    }

    public static TheoryData<string> Activations() => ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"];

    [Theory]
    [MemberData(nameof(Activations))]
    public void Activation_matches_pytorch(string name)
    {
        Module<double> m = name switch
        {
            "relu" => new ReLU<double>(),
            "leaky_relu" => new LeakyReLU<double>(s_golden[name].GetProperty("negative_slope").GetDouble()),
            "sigmoid" => new Sigmoid<double>(),
            "tanh" => new Tanh<double>(),
            "softmax" => new Softmax<double>(),
            _ => throw new ArgumentException(name),
        };
        AssertClose(G(name, "y"), m.Forward(G(name, "x")), Tol, $"{name} y");
        AssertClose(G(name, "dx"), m.Backward(G(name, "dy")), Tol, $"{name} dx");
    }

    [Theory]
    [InlineData("cross_entropy")]
    [InlineData("cross_entropy_smoothing")]
    [InlineData("cross_entropy_large")]
    public void CrossEntropy_matches_pytorch(string name)
    {
        var e = s_golden[name];
        double smoothing = e.TryGetProperty("label_smoothing", out var ls) ? ls.GetDouble() : 0;
        var loss = new CrossEntropyLoss<double>(smoothing);
        double value = loss.Forward(G(name, "logits"), GoldenFile.Ints(e.GetProperty("labels")));
        AssertClose(e.GetProperty("loss").GetDouble(), value, Tol, $"{name} loss");
        AssertClose(G(name, "dlogits"), loss.Backward(), Tol, $"{name} dlogits");
    }

    [Fact]
    public void CrossEntropy_with_index_tensor_target_matches_pytorch()
    {
        var labels = GoldenFile.Ints(s_golden["cross_entropy"].GetProperty("labels"));
        var target = Tensor<double>.FromArray(labels.Select(l => (double)l).ToArray(), labels.Length);
        var loss = new CrossEntropyLoss<double>();
        AssertClose(s_golden["cross_entropy"].GetProperty("loss").GetDouble(), loss.Forward(G("cross_entropy", "logits"), target), Tol);
        AssertClose(G("cross_entropy", "dlogits"), loss.Backward(), Tol);
    }

    [Fact]
    public void CrossEntropy_with_one_hot_probability_target_matches_pytorch()
    {
        var logits = G("cross_entropy_smoothing", "logits");
        var labels = GoldenFile.Ints(s_golden["cross_entropy_smoothing"].GetProperty("labels"));
        var oneHot = new Tensor<double>(logits.Shape);
        for (int i = 0; i < labels.Length; i++) oneHot[i, labels[i]] = 1;
        var loss = new CrossEntropyLoss<double>(s_golden["cross_entropy_smoothing"].GetProperty("label_smoothing").GetDouble());
        AssertClose(s_golden["cross_entropy_smoothing"].GetProperty("loss").GetDouble(), loss.Forward(logits, oneHot), Tol);
        AssertClose(G("cross_entropy_smoothing", "dlogits"), loss.Backward(), Tol);
    }

    [Theory]
    [InlineData("mse")]
    [InlineData("bce_with_logits")]
    public void Regression_losses_match_pytorch(string name)
    {
        Loss<double> loss = name == "mse" ? new MSELoss<double>() : new BCEWithLogitsLoss<double>();
        double value = loss.Forward(G(name, "input"), G(name, "target"));
        AssertClose(s_golden[name].GetProperty("loss").GetDouble(), value, Tol, $"{name} loss");
        AssertClose(G(name, "dinput"), loss.Backward(), Tol, $"{name} dinput");
    }

    [Fact]
    public void Three_layer_mlp_matches_pytorch_end_to_end()
    {
        var w0 = G("mlp", "w0");
        var w1 = G("mlp", "w1");
        var w2 = G("mlp", "w2");
        var l0 = new Linear<double>(w0.Shape[1], w0.Shape[0]);
        var l1 = new Linear<double>(w1.Shape[1], w1.Shape[0]);
        var l2 = new Linear<double>(w2.Shape[1], w2.Shape[0]);
        w0.CopyTo(l0.Weight.Value); G("mlp", "b0").CopyTo(l0.Bias!.Value);
        w1.CopyTo(l1.Weight.Value); G("mlp", "b1").CopyTo(l1.Bias!.Value);
        w2.CopyTo(l2.Weight.Value); G("mlp", "b2").CopyTo(l2.Bias!.Value);
        var model = new Sequential<double>(l0, new Tanh<double>(), l1, new ReLU<double>(), l2);
        var loss = new CrossEntropyLoss<double>();

        double value = loss.Forward(model.Forward(G("mlp", "x")), GoldenFile.Ints(s_golden["mlp"].GetProperty("labels")));
        AssertClose(s_golden["mlp"].GetProperty("loss").GetDouble(), value, Tol, "loss");
        model.ZeroGrad();
        var dx = model.Backward(loss.Backward());
        AssertClose(G("mlp", "dx"), dx, Tol, "dx");
        var grads = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad);
        AssertClose(G("mlp", "dw0"), grads["0.weight"], Tol, "dw0");
        AssertClose(G("mlp", "db0"), grads["0.bias"], Tol, "db0");
        AssertClose(G("mlp", "dw1"), grads["2.weight"], Tol, "dw1");
        AssertClose(G("mlp", "db1"), grads["2.bias"], Tol, "db1");
        AssertClose(G("mlp", "dw2"), grads["4.weight"], Tol, "dw2");
        AssertClose(G("mlp", "db2"), grads["4.bias"], Tol, "db2");
    }
}
