using NeuralNet.Activations;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Optim.Schedules;
using NeuralNet.Tensors;
using NeuralNet.Training;

namespace NeuralNet.Tests.Optim;

public class OneCycleTests
{
    [Fact]
    public void Rises_to_the_peak_at_the_warmup_fraction_then_falls_to_the_final_rate()
    {
        var s = new OneCycle(epochs: 4, warmupFraction: 0.25, divFactor: 25, finalDivFactor: 1e4);
        const double peak = 0.01;
        Assert.True(s.PerStep);
        Assert.Equal(peak / 25, s.AtStep(0, 0, 100, peak), 12);              // t = 0
        Assert.Equal(peak, s.AtStep(1, 0, 100, peak), 12);                   // t = 0.25
        Assert.Equal(peak / 25 / 1e4, s.AtStep(4, 0, 100, peak), 15);        // t = 1
        // Halfway through the warm-up the cosine is at its midpoint: (start + peak)/2.
        Assert.Equal((peak / 25 + peak) / 2, s.AtStep(0, 50, 100, peak), 12);
        // Halfway through the anneal: (end + peak)/2.
        Assert.Equal((peak / 25 / 1e4 + peak) / 2, s.AtStep(2, 50, 100, peak), 12);
        double previous = 0;
        for (int step = 0; step <= 100; step++)
        {
            double lr = s.AtStep(0, step, 100, peak);
            Assert.True(lr >= previous, $"warm-up must not fall: step {step}");
            previous = lr;
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(3, warmupFraction: 1.0));
    }

    [Fact]
    public void The_trainer_sets_a_per_step_rate_before_every_batch()
    {
        var data = ToyDatasets.Spirals<double>(pointsPerClass: 40, seed: 3);
        var rng = new Rng(4);
        var model = new Sequential<double>(new Linear<double>(2, 16, rng: rng), new ReLU<double>(), new Linear<double>(16, 3, rng: rng));
        var optimizer = new Adam<double>(model.Parameters(), 0.05);
        var schedule = new OneCycle(epochs: 2);
        var observer = new RateRecorder(optimizer);
        Trainer.Fit(model, new CrossEntropyLoss<double>(), optimizer, data, null,
            new TrainerOptions { Epochs = 2, BatchSize = 30, Schedule = schedule, Seed = 1 }, observer);
        int batches = (data.Count + 29) / 30;
        Assert.Equal(2 * batches, observer.Rates.Count);
        for (int i = 0; i < observer.Rates.Count; i++)
            Assert.Equal(schedule.AtStep(i / batches, i % batches, batches, 0.05), observer.Rates[i], 15);
    }

    private sealed class RateRecorder(Optimizer<double> optimizer) : ITrainingObserver
    {
        public List<double> Rates { get; } = [];

        public void OnBatchEnd(int epoch, int batch, int batches, double runningLoss, long samplesSoFar) => Rates.Add(optimizer.LearningRate);
    }
}
