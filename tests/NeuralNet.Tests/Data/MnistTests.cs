using NeuralNet.Data;

namespace NeuralNet.Tests.Data;

public class MnistTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Synthetic_folder_loads_with_shapes_scaling_and_labels(bool gzip)
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip, trainCount: 20, testCount: 10);

        Dataset<float> train = Mnist.Load(dir.Path, train: true);
        Dataset<float> test = Mnist.Load(dir.Path, train: false);
        Assert.True(train.StoredAsBytes && test.StoredAsBytes); // a quarter of the memory until Features is read
        Assert.Equal([784], train.SampleShape);
        Assert.Equal([20, 784], train.Features.Shape.ToArray());
        Assert.Equal([10, 784], test.Features.Shape.ToArray());
        Assert.Equal(SyntheticMnist.Labels(20).Select(b => (int)b), train.Labels);
        Assert.Equal(10, train.NumClasses);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), train.ClassNames);

        // x = p/255: every byte value occurs, so 0 and 1 are both hit exactly.
        for (int n = 0; n < 20; n += 7)
            for (int i = 0; i < 784; i += 13)
                Assert.Equal(SyntheticMnist.Pixel(n, i) / 255f, train.Features[n, i]);
        Assert.Equal(0f, train.Features.ReadOnlySpan.ToArray().Min());
        Assert.Equal(1f, train.Features.ReadOnlySpan.ToArray().Max());
    }

    [Fact]
    public void Unflattened_features_are_NCHW_with_the_same_values()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true);
        Dataset<float> flat = Mnist.Load(dir.Path, train: false, flatten: true);
        Dataset<float> nchw = Mnist.Load(dir.Path, train: false, flatten: false);
        Assert.Equal([10, 1, 28, 28], nchw.Features.Shape.ToArray());
        Assert.Equal([1, 28, 28], nchw.SampleShape);
        Assert.Equal(flat.Features.ToArray(), nchw.Features.ToArray());
        Assert.Equal(SyntheticMnist.Pixel(3, 5 * 28 + 7) / 255f, nchw.Features.At(3, 0, 5, 7));
    }

    [Fact]
    public void Fashion_mnist_gets_its_class_names_and_unknown_names_are_rejected()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: false);
        Dataset<float> fashion = Mnist.Load(dir.Path, train: true, dataset: "fashion-mnist");
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], fashion.ClassNames);
        Assert.Same(Mnist.FashionClassNames, fashion.ClassNames);
        var ex = Assert.Throws<ArgumentException>(() => Mnist.Load(dir.Path, train: true, dataset: "cifar10"));
        Assert.Contains("unknown data set 'cifar10'; known: mnist, fashion-mnist", ex.Message);
    }

    [Fact]
    public void Uncompressed_name_wins_when_both_are_present()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true);
        Idx.WriteLabels(dir["t10k-labels-idx1-ubyte"], Enumerable.Repeat((byte)9, 10).ToArray(), gzip: false);
        Assert.All(Mnist.Load(dir.Path, train: false).Labels, l => Assert.Equal(9, l));
    }

    [Fact]
    public void Splits_carve_a_seeded_validation_set_from_train()
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true, trainCount: 20, testCount: 10);
        var (train, validation, test) = Mnist.LoadSplits(dir.Path, "mnist", validationFraction: 0.25, seed: 7);
        Assert.Equal((15, 5, 10), (train.Count, validation.Count, test.Count));
        Assert.Equal([5, 784], validation.Features.Shape.ToArray());
        // Together the two parts hold every training sample once.
        Dataset<float> all = Mnist.Load(dir.Path, train: true);
        var rows = train.Features.ToArray().Chunk(784).Concat(validation.Features.ToArray().Chunk(784)).Select(r => string.Join(',', r)).Order();
        Assert.Equal(all.Features.ToArray().Chunk(784).Select(r => string.Join(',', r)).Order(), rows);
        // Same seed, same split.
        var again = Mnist.LoadSplits(dir.Path, "mnist", validationFraction: 0.25, seed: 7);
        Assert.Equal(validation.Labels, again.Validation.Labels);
        Assert.True(validation.Features.ContentEquals(again.Validation.Features));

        var nchw = Mnist.LoadSplits(dir.Path, "fashion-mnist", flatten: false);
        Assert.Equal((18, 2), (nchw.Train.Count, nchw.Validation.Count));
        Assert.Equal([1, 28, 28], nchw.Test.SampleShape);
        Assert.Equal(Mnist.FashionClassNames, nchw.Validation.ClassNames);
    }

    // Real data: CI sets NN_DATA to shared/data. Without it this test has nothing to read and passes.
    [Theory]
    [InlineData("mnist", new[] { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 }, new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 })]
    [InlineData("fashion-mnist", new[] { 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000 }, new[] { 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 })]
    public void Real_data_from_NN_DATA_has_the_published_counts(string dataset, int[] trainHistogram, int[] testHistogram)
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root)) return;
        string folder = Path.Combine(root, dataset);
        Assert.True(Directory.Exists(folder), $"NN_DATA={root} is set but has no {dataset}/ folder.");

        Dataset<float> train = Mnist.Load(folder, train: true, dataset: dataset);
        Dataset<float> test = Mnist.Load(folder, train: false, flatten: false, dataset: dataset);
        Assert.Equal((60000, 10000), (train.Count, test.Count));
        Assert.Equal([60000, 784], train.Features.Shape.ToArray());
        Assert.Equal([10000, 1, 28, 28], test.Features.Shape.ToArray());
        Assert.Equal(trainHistogram, Histogram(train.Labels));
        Assert.Equal(testHistogram, Histogram(test.Labels));
        Assert.Equal(60000, Histogram(train.Labels).Sum());
        Assert.Equal(10000, Histogram(test.Labels).Sum());
        float[] x = train.Features.ToArray();
        Assert.Equal((0f, 1f), (x.Min(), x.Max()));
        // The well-known first samples: MNIST's 5 0 4 1 9; Fashion-MNIST's ankle boot, two T-shirts, a dress, a T-shirt.
        Assert.Equal(dataset == "mnist" ? [5, 0, 4, 1, 9] : [9, 0, 0, 3, 0], train.Labels[..5]);
    }

    private static int[] Histogram(int[] labels)
    {
        var h = new int[10];
        foreach (int l in labels) h[l]++;
        return h;
    }
}

public class MnistLearningTests
{
    [Fact]
    public void One_epoch_on_real_mnist_reaches_90_percent()
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root) || !Directory.Exists(Path.Combine(root, "mnist"))) return; // CI sets NN_DATA
        var (train, _, test) = Mnist.LoadSplits(Path.Combine(root, "mnist"), "mnist", 0.1, seed: 42);
        var rng = new NeuralNet.Tensors.Rng(42);
        var model = new NeuralNet.Modules.Sequential<float>(
            new NeuralNet.Layers.Linear<float>(784, 128, NeuralNet.Init.Init.HeNormal(), rng: rng), new NeuralNet.Activations.ReLU<float>(),
            new NeuralNet.Layers.Linear<float>(128, 64, NeuralNet.Init.Init.HeNormal(), rng: rng), new NeuralNet.Activations.ReLU<float>(),
            new NeuralNet.Layers.Linear<float>(64, 10, NeuralNet.Init.Init.HeNormal(), rng: rng));
        var loss = new NeuralNet.Losses.CrossEntropyLoss<float>();
        NeuralNet.Training.Trainer.Fit(model, loss, new NeuralNet.Optim.Adam<float>(model.Parameters()), train, null,
            new NeuralNet.Training.TrainerOptions { Epochs = 1, BatchSize = 128, Seed = 42 });
        var m = NeuralNet.Training.Trainer.Evaluate(model, loss, test);
        Assert.Equal(10000, m.Count);
        Assert.True(m.Accuracy >= 0.90, $"test accuracy after one epoch: {m.Accuracy:P2}");
    }
}
