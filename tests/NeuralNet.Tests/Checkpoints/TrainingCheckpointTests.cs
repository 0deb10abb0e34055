using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Optim.Schedules;
using NeuralNet.Tensors;
using NeuralNet.Training;
using InitFns = NeuralNet.Init.Init;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>Training stopped at an epoch boundary, saved with <see cref="TrainingCheckpoint"/>, reloaded and continued.</summary>
public sealed class TrainingCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>BatchNorm (running statistics), Dropout (its own random source) and plain layers.</summary>
    private static Sequential<float> Net(ulong seed) => new(
        new Linear<float>(2, 32, InitFns.HeNormal(), rng: new Rng(seed)), new BatchNorm1d<float>(32), new ReLU<float>(),
        new Dropout<float>(0.3, new Rng(seed + 10)),
        new Linear<float>(32, 3, InitFns.XavierUniform(), rng: new Rng(seed + 1)));

    private static readonly Dataset<float> s_train = ToyDatasets.Spirals<float>(80, 3, 0.2, seed: 4);
    private static readonly Dataset<float> s_validation = ToyDatasets.Spirals<float>(30, 3, 0.2, seed: 5);

    private static TrainerOptions Options(CancellationToken token = default) => new()
    {
        Epochs = 6, BatchSize = 32, Seed = 11, Schedule = new OneCycle(6), Patience = 10, CancellationToken = token,
    };

    /// <summary>Saves a training checkpoint at the end of epoch <paramref name="stopAfter"/> − 1 and then stops the run.</summary>
    private sealed class SaveAndStop(string path, int stopAfter, Sequential<float> model, Optimizer<float> optimizer,
        Func<FitState<float>> state, CancellationTokenSource cts) : ITrainingObserver
    {
        public void OnResumePoint(int nextEpoch)
        {
            if (nextEpoch != stopAfter) return;
            TrainingCheckpoint.Save(path, model, optimizer, state(), seed: 11);
            cts.Cancel();
        }
    }

    private static EpochRecord[] WithoutTimes(History h) => h.Epochs.Select(r => r with { Seconds = 0 }).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Stopped_after_an_epoch_reloaded_into_a_fresh_model_and_continued_equals_the_straight_run_bit_for_bit(int stopAfter)
    {
        var straight = Net(1);
        var adam = new Adam<float>(straight.Parameters(), 0.01);
        var expected = Trainer.Fit(straight, new CrossEntropyLoss<float>(0.1), adam, s_train, s_validation, Options());
        Assert.Equal(6, expected.Epochs.Count);

        string path = Path.Combine(_dir, $"last{stopAfter}.npz");
        var first = Net(1);
        var adam1 = new Adam<float>(first.Parameters(), 0.01);
        var state1 = new FitState<float>(first);
        using var cts = new CancellationTokenSource();
        var cut = Trainer.Fit(first, new CrossEntropyLoss<float>(0.1), adam1, s_train, s_validation, Options(cts.Token),
            new SaveAndStop(path, stopAfter, first, adam1, () => state1, cts), state: state1);
        Assert.Equal(StopReason.Cancelled, cut.StopReason);
        Assert.Equal(stopAfter, cut.Epochs.Count);

        var resumed = Net(99); // other initial weights and another dropout seed: everything must come from the file
        var adam2 = new Adam<float>(resumed.Parameters(), 0.01);
        var state = TrainingCheckpoint.Load(path, resumed, adam2);
        Assert.Equal(stopAfter, state.NextEpoch);
        var history = Trainer.Fit(resumed, new CrossEntropyLoss<float>(0.1), adam2, s_train, s_validation, Options(), state: state);

        Assert.Equal(adam.StepCount, adam2.StepCount);
        Assert.Equal(WithoutTimes(expected), WithoutTimes(history));
        Assert.Equal((expected.BestEpoch, expected.StopReason), (history.BestEpoch, history.StopReason));
        foreach (var ((name, a), (_, b)) in straight.StateDict().Zip(resumed.StateDict()))
            Assert.True(a.ToArray().AsSpan().SequenceEqual(b.ToArray()), $"{name} differs from the straight run");
    }

    [Fact]
    public void The_dropout_generator_is_saved_and_restored_word_for_word()
    {
        var model = Net(3);
        var adam = new Adam<float>(model.Parameters(), 0.01);
        Trainer.Fit(model, new CrossEntropyLoss<float>(), adam, s_train, null, Options() with { Epochs = 1 });
        var (name, rng) = Assert.Single(model.NamedRandomSources());
        Assert.Equal("3.rng", name);
        string path = Path.Combine(_dir, "rng.npz");
        TrainingCheckpoint.Save(path, model, adam, new FitState<float>(model) { NextEpoch = 0 }, seed: 0);

        var other = Net(4);
        Assert.NotEqual(rng.GetState(), other.NamedRandomSources().Single().Rng.GetState());
        TrainingCheckpoint.Load(path, other, new Adam<float>(other.Parameters(), 0.01));
        Assert.Equal(rng.GetState(), other.NamedRandomSources().Single().Rng.GetState());
    }

    [Fact]
    public void A_run_that_stopped_early_resumes_to_the_same_stop_and_a_finished_one_runs_no_epoch()
    {
        // Validation labels are the training labels shifted by one class: the better the fit, the worse the validation
        // loss, so early stopping ends the run after the first epoch plus the patience.
        var flipped = new Dataset<float>(s_train.Features, s_train.Labels.Select(l => (l + 1) % 3).ToArray(), 3);
        TrainerOptions options = Options() with { Patience = 2, Epochs = 20 };

        var straight = Net(5);
        var sgd = new SGD<float>(straight.Parameters(), 0.1, momentum: 0.9);
        var expected = Trainer.Fit(straight, new CrossEntropyLoss<float>(), sgd, s_train, flipped, options);
        Assert.Equal(StopReason.EarlyStopping, expected.StopReason);
        int stoppedAt = expected.Epochs.Count;
        Assert.True(stoppedAt < 20);

        foreach (int stopAfter in new[] { stoppedAt - 1, stoppedAt })
        {
            string path = Path.Combine(_dir, $"early{stopAfter}.npz");
            var first = Net(5);
            var sgd1 = new SGD<float>(first.Parameters(), 0.1, momentum: 0.9);
            var state1 = new FitState<float>(first);
            using var cts = new CancellationTokenSource();
            Trainer.Fit(first, new CrossEntropyLoss<float>(), sgd1, s_train, flipped, options with { CancellationToken = cts.Token },
                new SaveAndStop(path, stopAfter, first, sgd1, () => state1, cts), state: state1);

            var resumed = Net(6);
            var sgd2 = new SGD<float>(resumed.Parameters(), 0.1, momentum: 0.9);
            var state = TrainingCheckpoint.Load(path, resumed, sgd2);
            long stepsBefore = sgd2.StepCount;
            var history = Trainer.Fit(resumed, new CrossEntropyLoss<float>(), sgd2, s_train, flipped, options, state: state);
            Assert.Equal(StopReason.EarlyStopping, history.StopReason);
            Assert.Equal(WithoutTimes(expected), WithoutTimes(history));
            if (stopAfter == stoppedAt) Assert.Equal(stepsBefore, sgd2.StepCount); // nothing left to run
            Assert.Equal(straight.StateDict().SelectMany(s => s.Tensor.ToArray()), resumed.StateDict().SelectMany(s => s.Tensor.ToArray()));
        }
    }

    [Fact]
    public void A_cancelled_partial_epoch_is_reported_but_stays_out_of_the_state_and_is_not_the_best()
    {
        var model = Net(7);
        var state = new FitState<float>(model);
        using var cts = new CancellationTokenSource();
        var history = Trainer.Fit(model, new CrossEntropyLoss<float>(), new Adam<float>(model.Parameters(), 0.01), s_train, s_validation,
            Options(cts.Token) with { BatchSize = 8 }, new CancelAtBatch(epoch: 1, batch: 25, cts), state: state);
        Assert.Equal(StopReason.Cancelled, history.StopReason);
        Assert.Equal(2, history.Epochs.Count);       // epoch 0, and 26 of 30 batches of epoch 1
        Assert.Equal(1, state.NextEpoch);
        Assert.Single(state.History.Epochs);
        // a mid-epoch snapshot never displaces a completed epoch as the best: the model holds epoch 0's weights
        Assert.Equal(0, history.BestEpoch);
        Assert.Equal(state.BestWeights.SelectMany(t => t.ToArray()), model.StateDict().SelectMany(s => s.Tensor.ToArray()));
    }

    private sealed class CancelAtBatch(int epoch, int batch, CancellationTokenSource cts) : ITrainingObserver
    {
        public void OnBatchEnd(int e, int b, int batches, double runningLoss, long samplesSoFar)
        {
            if (e == epoch && b == batch) cts.Cancel();
        }
    }

    [Fact]
    public void A_weights_only_checkpoint_cannot_resume_and_says_so()
    {
        var model = Net(8);
        var adam = new Adam<float>(model.Parameters(), 0.01);
        string path = Path.Combine(_dir, "weights.npz");
        Checkpoint.Save(path, model, adam);
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(path, Net(8), new Adam<float>(Net(8).Parameters())));
        Assert.Contains("weights.npz", e.Message);
        Assert.Contains("cannot resume", e.Message);
    }
}
