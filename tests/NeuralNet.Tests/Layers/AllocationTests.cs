using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Layers;

/// <summary>Once shapes are fixed, a training step's forward and backward allocate nothing on the managed heap.</summary>
[Collection("Serial")]
public class AllocationTests
{
    [Fact]
    public void Warm_forward_and_backward_of_a_three_layer_mlp_allocate_nothing()
    {
        var rng = new Rng(1);
        var model = new Sequential<float>(
            new Linear<float>(784, 128, NeuralNet.Init.Init.HeNormal(), rng: rng), new ReLU<float>(),
            new Linear<float>(128, 64, NeuralNet.Init.Init.HeNormal(), rng: rng), new ReLU<float>(),
            new Linear<float>(64, 10, NeuralNet.Init.Init.HeNormal(), rng: rng));
        var loss = new CrossEntropyLoss<float>();
        var data = Tensor<float>.RandomUniform(rng, 0, 1, 256, 784);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(10);
        // Two mini-batch views, made up front (a view is a small object; the data is not copied).
        Tensor<float>[] batches = [data.RowRange(0, 128), data.RowRange(128, 128)];

        void Step(int b)
        {
            model.ZeroGrad();
            loss.Forward(model.Forward(batches[b]), labels.AsSpan(b * 128, 128));
            model.Backward(loss.Backward());
        }

        for (int i = 0; i < 3; i++) Step(i % 2); // warm-up: layer buffers, per-thread packing space, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step(i % 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void The_allocation_probe_sees_allocations()
    {
        // Guards the test above against a probe that always reads zero.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var t = new Tensor<float>(128, 10);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated >= 128 * 10 * sizeof(float), $"saw {allocated} bytes for {t.Shape}");
    }
}
