using NeuralNet.Activations;
using Xunit.Abstractions;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Training;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Training;

/// <summary>Proof of learning on toy problems, with fixed seeds.</summary>
public class LearningTests(ITestOutputHelper output)
{
    private static Sequential<double> SpiralNet(ulong seed) => new(
        new Linear<double>(2, 100, InitFns.HeNormal(), rng: new Rng(seed)), new ReLU<double>(),
        new Linear<double>(100, 3, InitFns.XavierUniform(), rng: new Rng(seed + 1)));

    [Fact]
    public void A_2_4_2_network_learns_xor()
    {
        var data = ToyDatasets.Xor<double>();
        var model = new Sequential<double>(
            new Linear<double>(2, 4, InitFns.XavierUniform(), rng: new Rng(3)), new Tanh<double>(),
            new Linear<double>(4, 2, InitFns.XavierUniform(), rng: new Rng(4)));
        var loss = new CrossEntropyLoss<double>();
        var history = Trainer.Fit(model, loss, new Adam<double>(model.Parameters(), 0.05), data, null,
            new TrainerOptions { Epochs = 500, BatchSize = 4, Shuffle = false });
        var m = Trainer.Evaluate(model, loss, data);
        Assert.Equal(1.0, m.Accuracy);
        Assert.True(history.Epochs[^1].TrainLoss < 0.05, $"final loss {history.Epochs[^1].TrainLoss}");
    }

    [Fact]
    public void A_2_100_3_relu_network_fits_the_spiral()
    {
        var data = ToyDatasets.Spirals<double>(100, 3, 0.2, seed: 0);
        var model = SpiralNet(10);
        var loss = new CrossEntropyLoss<double>();
        Trainer.Fit(model, loss, new Adam<double>(model.Parameters(), 0.01), data, null,
            new TrainerOptions { Epochs = 300, BatchSize = 300, Shuffle = false });
        var m = Trainer.Evaluate(model, loss, data);
        Assert.True(m.Accuracy >= 0.95, $"spiral training accuracy {m.Accuracy:P1}");
    }

    [Fact]
    public void Full_batch_gradient_descent_decreases_the_loss_at_every_one_of_the_first_ten_steps()
    {
        var data = ToyDatasets.Spirals<double>(100, 3, 0.2, seed: 0);
        var model = SpiralNet(20);
        var loss = new CrossEntropyLoss<double>();
        var sgd = new SGD<double>(model.Parameters(), 0.5);
        double previous = double.PositiveInfinity;
        for (int step = 0; step < 10; step++)
        {
            sgd.ZeroGrad();
            double l = loss.Forward(model.Forward(data.Features), data.Labels);
            Assert.True(l < previous, $"step {step}: loss {l} did not decrease from {previous}");
            previous = l;
            model.Backward(loss.Backward());
            sgd.Step();
        }
    }

    /// <summary>Epochs until full-batch training reaches 95% on the spiral, best over a small learning-rate grid.</summary>
    internal static (int Epochs, double Lr) EpochsTo95(Func<IReadOnlyList<NeuralNet.Modules.Parameter<double>>, double, Optimizer<double>> make, double[] grid, int maxEpochs)
    {
        var data = ToyDatasets.Spirals<double>(100, 3, 0.2, seed: 0);
        var best = (Epochs: int.MaxValue, Lr: double.NaN);
        foreach (double lr in grid)
        {
            var model = SpiralNet(30);
            var loss = new CrossEntropyLoss<double>();
            var opt = make(model.Parameters(), lr);
            for (int epoch = 1; epoch <= maxEpochs && epoch < best.Epochs; epoch++)
            {
                opt.ZeroGrad();
                loss.Forward(model.Forward(data.Features), data.Labels);
                model.Backward(loss.Backward());
                opt.Step();
                var m = Trainer.Evaluate(model, loss, data);
                if (m.Accuracy >= 0.95)
                {
                    best = (epoch, lr);
                    break;
                }
            }
        }
        return best;
    }

    [Fact]
    public void Adam_reaches_95_percent_on_the_spiral_in_fewer_epochs_than_sgd()
    {
        double[] grid = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0];
        var adam = EpochsTo95((ps, lr) => new Adam<double>(ps, lr), grid, 2000);
        var sgd = EpochsTo95((ps, lr) => new SGD<double>(ps, lr), grid, 2000);
        output.WriteLine($"epochs to 95% on the spiral (full batch, best of lr grid): Adam {adam.Epochs} (lr {adam.Lr}), SGD {sgd.Epochs} (lr {sgd.Lr})");
        Assert.True(adam.Epochs < sgd.Epochs, $"Adam {adam.Epochs} epochs (lr {adam.Lr}) vs SGD {sgd.Epochs} epochs (lr {sgd.Lr})");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_weights()
    {
        float[] Run()
        {
            var data = ToyDatasets.Spirals<float>(50, 3, 0.2, seed: 1);
            var model = new Sequential<float>(
                new Linear<float>(2, 64, InitFns.HeNormal(), rng: new Rng(5)), new ReLU<float>(),
                new Linear<float>(64, 3, InitFns.HeNormal(), rng: new Rng(6)));
            Trainer.Fit(model, new CrossEntropyLoss<float>(), new Adam<float>(model.Parameters(), 0.01), data, null,
                new TrainerOptions { Epochs = 5, BatchSize = 16, Seed = 9 });
            return model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Early_stopping_restores_the_best_validation_weights()
    {
        var all = ToyDatasets.Spirals<double>(60, 3, 0.6, seed: 2);
        var (train, val) = all.Split(0.3, seed: 3);
        var model = new Sequential<double>(
            new Linear<double>(2, 200, InitFns.HeNormal(), rng: new Rng(7)), new ReLU<double>(),
            new Linear<double>(200, 3, InitFns.HeNormal(), rng: new Rng(8)));
        var loss = new CrossEntropyLoss<double>();
        var history = Trainer.Fit(model, loss, new Adam<double>(model.Parameters(), 0.05), train, val,
            new TrainerOptions { Epochs = 400, BatchSize = 32, Patience = 10, Seed = 1 });
        Assert.Equal("early stopping", history.StopReason);
        Assert.Equal(history.BestEpoch + 10, history.Epochs[^1].Epoch);
        double bestVal = history.Epochs.Min(e => e.ValidationLoss);
        Assert.Equal(bestVal, history.Epochs.Single(e => e.Epoch == history.BestEpoch).ValidationLoss);
        // The restored weights reproduce the best epoch's validation loss.
        Assert.Equal(bestVal, Trainer.Evaluate(model, loss, val).Loss, 12);
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_error()
    {
        var data = ToyDatasets.Spirals<double>(50, 3, 0.2, seed: 0);
        var model = SpiralNet(40);
        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(model, new CrossEntropyLoss<double>(),
            new SGD<double>(model.Parameters(), 1e300), data, null, new TrainerOptions { Epochs = 50, BatchSize = 150 }));
        Assert.Contains("became", e.Message);
        Assert.Equal("diverged", e.History.StopReason);
        Assert.All(model.Parameters().SelectMany(p => p.Value.ToArray()), v => Assert.True(double.IsFinite(v) || e.History.BestEpoch < 0));
    }

    [Fact]
    public void Observer_sees_every_batch_and_epoch()
    {
        var data = ToyDatasets.Moons<float>(100, 0.1, seed: 1);
        var model = new Sequential<float>(new Linear<float>(2, 8, rng: new Rng(1)), new ReLU<float>(), new Linear<float>(8, 2, rng: new Rng(2)));
        var obs = new CountingObserver();
        Trainer.Fit(model, new CrossEntropyLoss<float>(), new SGD<float>(model.Parameters(), 0.1), data, data,
            new TrainerOptions { Epochs = 3, BatchSize = 32 }, obs);
        Assert.Equal(3, obs.Starts);
        Assert.Equal(3 * 4, obs.Batches);
        Assert.Equal(3, obs.Ends);
    }

    [Fact]
    public void Cancelling_stops_after_the_current_batch_and_keeps_the_finished_epochs()
    {
        var data = ToyDatasets.Moons<float>(400, 0.1, seed: 1);
        var model = new Sequential<float>(new Linear<float>(2, 8, rng: new Rng(1)), new ReLU<float>(), new Linear<float>(8, 2, rng: new Rng(2)));
        using var cts = new CancellationTokenSource();
        var observer = new CancelAt(epoch: 2, batch: 3, cts);
        var history = Trainer.Fit(model, new CrossEntropyLoss<float>(), new SGD<float>(model.Parameters(), 0.1), data, data,
            new TrainerOptions { Epochs = 10, BatchSize = 16, CancellationToken = cts.Token }, observer);
        Assert.Equal("cancelled", history.StopReason);
        Assert.Equal(2, history.Epochs.Count);           // epochs 0 and 1; epoch 2 was cut after 4 of 25 batches
        Assert.Equal(4, observer.BatchesInLastEpoch);
        Assert.InRange(history.BestEpoch, 0, 1);
    }

    private sealed class CancelAt(int epoch, int batch, CancellationTokenSource cts) : ITrainingObserver
    {
        public int BatchesInLastEpoch;

        public void OnEpochStart(int e, int batches, double learningRate) => BatchesInLastEpoch = 0;

        public void OnBatchEnd(int e, int b, int batches, double runningLoss, long samplesSoFar)
        {
            BatchesInLastEpoch++;
            if (e == epoch && b == batch) cts.Cancel();
        }
    }

    private sealed class CountingObserver : ITrainingObserver
    {
        public int Starts, Batches, Ends;

        public void OnEpochStart(int epoch, int batches, double learningRate) => Starts++;

        public void OnBatchEnd(int epoch, int batch, int batches, double runningLoss, long samplesSoFar) => Batches++;

        public void OnEpochEnd(EpochRecord record, bool isBest) => Ends++;
    }
}
