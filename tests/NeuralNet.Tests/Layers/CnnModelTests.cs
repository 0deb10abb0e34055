using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Layers;

/// <summary>The MNIST CNN as a whole: zero allocation once warm, checkpoint round trip with BatchNorm buffers.</summary>
[Collection("Serial")]
public sealed class CnnModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-cnn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>conv 32, BN, ReLU, maxpool, conv 64, BN, ReLU, maxpool, flatten, linear 3136→128, ReLU, dropout, linear 128→10.</summary>
    internal static Sequential<float> MnistCnn(Rng rng) => new(
        new Conv2d<float>(1, 32, 3, padding: 1, rng: rng) { ComputeInputGradient = false },
        new BatchNorm2d<float>(32), new ReLU<float>(), new MaxPool2d<float>(2),
        new Conv2d<float>(32, 64, 3, padding: 1, rng: rng),
        new BatchNorm2d<float>(64), new ReLU<float>(), new MaxPool2d<float>(2),
        new Flatten<float>(),
        new Linear<float>(3136, 128, rng: rng), new ReLU<float>(), new Dropout<float>(0.5, new Rng(rng.NextUInt64())),
        new Linear<float>(128, 10, rng: rng));

    [Fact]
    public void Warm_forward_and_backward_of_the_mnist_cnn_allocate_nothing()
    {
        var rng = new Rng(1);
        var model = MnistCnn(rng);
        var loss = new CrossEntropyLoss<float>();
        var data = Tensor<float>.RandomNormal(rng, 0, 1, 256, 1, 28, 28);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(10);
        Tensor<float>[] batches = [data.RowRange(0, 128), data.RowRange(128, 128)];

        void Step(int b)
        {
            model.ZeroGrad();
            loss.Forward(model.Forward(batches[b]), labels.AsSpan(b * 128, 128));
            model.Backward(loss.Backward());
        }

        for (int i = 0; i < 3; i++) Step(i % 2); // warm-up: buffers, scratch, the kernel pool, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 4; i++) Step(i % 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_cnn_with_batchnorm_round_trips_through_a_checkpoint_with_its_running_statistics()
    {
        var rng = new Rng(2);
        var model = new Sequential<float>(
            new Conv2d<float>(1, 4, 3, padding: 1, rng: rng), new BatchNorm2d<float>(4), new ReLU<float>(), new MaxPool2d<float>(2),
            new Conv2d<float>(4, 6, 3, stride: 2, bias: false, rng: rng), new BatchNorm2d<float>(6, eps: 1e-3, momentum: 0.3), new ReLU<float>(),
            new AvgPool2d<float>(2, 1), new Flatten<float>(),
            new Linear<float>(6, 8, rng: rng), new BatchNorm1d<float>(8), new ReLU<float>(), new Dropout<float>(0.25, new Rng(3)),
            new Linear<float>(8, 3, rng: rng));
        // A few training-mode forwards move the running statistics away from (0, 1).
        for (int i = 0; i < 3; i++) model.Forward(Tensor<float>.RandomNormal(rng, 1, 2, 16, 1, 12, 12));
        model.Eval();

        string path = Path.Combine(_dir, "cnn.npz");
        Checkpoint.Save(path, model);
        var loaded = Checkpoint.Load<float>(path);
        loaded.Eval();

        Assert.Equal(model.ToString(), loaded.ToString());
        Assert.Contains(loaded.StateDict(), e => e.Name == "1.running_mean");
        Assert.Contains(loaded.StateDict(), e => e.Name == "10.running_var");
        foreach (var ((name, a), (name2, b)) in model.StateDict().Zip(loaded.StateDict()))
        {
            Assert.Equal(name, name2);
            Assert.True(a.ContentEquals(b), name);
        }
        Assert.NotEqual(0f, ((BatchNorm2d<float>)((Sequential<float>)loaded)[1]).RunningMean[0]);
        var x = Tensor<float>.RandomNormal(new Rng(4), 0, 1, 5, 1, 12, 12);
        Assert.True(model.Forward(x).ContentEquals(loaded.Forward(x)));
        Assert.Equal("CNN 1→4→6, 6→8→3", Architecture.Summary(loaded));
    }
}
