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

    [Theory]
    [InlineData("mse")]
    [InlineData("huber")]
    public void Fit_with_a_regression_loss_learns_a_noisy_nonlinear_function(string lossName)
    {
        // t = sin(2x₀) + x₁² + noise: a 2-32-1 tanh network reaches R² > 0.9 on held-out points.
        var rng = new Rng(7);
        var x = Tensor<double>.RandomUniform(rng, -1.5, 1.5, 400, 2);
        var t = new Tensor<double>(400, 1);
        for (int i = 0; i < 400; i++) t[i, 0] = Math.Sin(2 * x[i, 0]) + x[i, 1] * x[i, 1] + 0.05 * rng.NextNormal();
        var (train, val) = new Dataset<double>(x, t).Split(0.25, seed: 1);
        Assert.NotNull(val.Targets);
        var model = new Sequential<double>(
            new Linear<double>(2, 32, InitFns.XavierUniform(), rng: new Rng(8)), new Tanh<double>(),
            new Linear<double>(32, 1, InitFns.XavierUniform(), rng: new Rng(9)));
        Loss<double> loss = lossName == "mse" ? new MSELoss<double>() : new HuberLoss<double>(0.5);
        var history = Trainer.Fit(model, loss, new Adam<double>(model.Parameters(), 0.01), train, val,
            new TrainerOptions { Epochs = 150, BatchSize = 32, Seed = 3 }, metric: new R2Score<double>());
        Assert.Equal("r2", history.MetricName);
        var (_, r2) = Trainer.EvaluateLoss(model, loss, val, 1000, new R2Score<double>());
        output.WriteLine($"{lossName}: validation R² {r2:F4}, best epoch {history.BestEpoch}");
        Assert.True(r2 > 0.9, $"validation R² {r2}");
        Assert.Contains("train_r2", history.ToCsv(), StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_refuses_a_regression_loss_on_class_labels()
    {
        var data = ToyDatasets.Xor<double>();
        var model = new Sequential<double>(new Linear<double>(2, 2, InitFns.XavierUniform(), rng: new Rng(3)));
        var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(model, new MSELoss<double>(), new SGD<double>(model.Parameters(), 0.1), data, null,
            new TrainerOptions { Epochs = 1 }));
        Assert.Contains("MSELoss", e.Message, StringComparison.Ordinal);
        Assert.Contains("class labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_reasons_are_written_as_before()
    {
        Assert.Equal(["completed", "early stopping", "cancelled", "diverged"], Enum.GetValues<StopReason>().Select(r => r.ToText()));
        Assert.All(Enum.GetValues<StopReason>(), r => Assert.Equal(r, StopReasonText.Parse(r.ToText())));
        Assert.Contains("\"stop_reason\": \"completed\"", new History().ToJson(), StringComparison.Ordinal);
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
        Assert.Equal(StopReason.EarlyStopping, history.StopReason);
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
        Assert.Equal(StopReason.Diverged, e.History.StopReason);
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
        Assert.Equal(StopReason.Cancelled, history.StopReason);
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
