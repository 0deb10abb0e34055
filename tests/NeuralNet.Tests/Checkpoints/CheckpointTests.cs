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

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Sequential<float> Mlp(ulong seed) => new(
        new Linear<float>(2, 16, InitFns.HeNormal(), rng: new Rng(seed)), new ReLU<float>(),
        new Linear<float>(16, 8, InitFns.HeNormal(), rng: new Rng(seed + 1)), new LeakyReLU<float>(0.05),
        new Linear<float>(8, 3, InitFns.XavierUniform(), rng: new Rng(seed + 2)));

    [Fact]
    public void Load_rebuilds_the_architecture_and_the_weights_bit_exactly()
    {
        var model = Mlp(1);
        string path = Path.Combine(_dir, "sub", "best_model.npz");
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "spirals" });
        var loaded = Checkpoint.Load<float>(path);
        Assert.Equal(model.ToString(), loaded.ToString());
        foreach (var ((name, a), (name2, b)) in model.StateDict().Zip(loaded.StateDict()))
        {
            Assert.Equal(name, name2);
            Assert.True(a.ContentEquals(b), name);
        }
        var x = Tensor<float>.RandomNormal(new Rng(3), 0, 1, 5, 2);
        Assert.True(model.Forward(x).ContentEquals(loaded.Forward(x)));
        Assert.Equal("spirals", Checkpoint.ReadMetadata(path)["dataset"]);
    }

    [Fact]
    public void Double_models_round_trip_too()
    {
        var model = new Sequential<double>(new Linear<double>(3, 2, rng: new Rng(1)), new Sigmoid<double>(), new Linear<double>(2, 2, rng: new Rng(2)), new Softmax<double>());
        string path = Path.Combine(_dir, "d.npz");
        Checkpoint.Save(path, model);
        var loaded = Checkpoint.Load<double>(path);
        Assert.Equal(model.Parameters().SelectMany(p => p.Value.ToArray()), loaded.Parameters().SelectMany(p => p.Value.ToArray()));
    }

    [Fact]
    public void Shape_mismatch_names_the_parameter_and_both_shapes()
    {
        string path = Path.Combine(_dir, "m.npz");
        Checkpoint.Save(path, Mlp(1));
        var other = new Sequential<float>(new Linear<float>(2, 32), new ReLU<float>(), new Linear<float>(32, 8), new LeakyReLU<float>(), new Linear<float>(8, 3));
        var e = Assert.Throws<ShapeMismatchException>(() => Checkpoint.LoadInto(path, other));
        Assert.Contains("'0.weight'", e.Message);
        Assert.Contains("(16, 2)", e.Message);
        Assert.Contains("(32, 2)", e.Message);
    }

    [Fact]
    public void Missing_truncated_and_foreign_files_fail_clearly()
    {
        string missing = Path.Combine(_dir, "nope.npz");
        Assert.Contains("nope.npz", Assert.Throws<FileNotFoundException>(() => Checkpoint.Load<float>(missing)).Message);

        string path = Path.Combine(_dir, "t.npz");
        Checkpoint.Save(path, Mlp(1));
        byte[] bytes = File.ReadAllBytes(path);
        string truncated = Path.Combine(_dir, "truncated.npz");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(truncated));
        Assert.Contains("truncated.npz", e.Message);

        string text = Path.Combine(_dir, "text.npz");
        File.WriteAllText(text, "hello");
        Assert.Contains("text.npz", Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(text)).Message);

        string plain = Path.Combine(_dir, "plain.npz");
        Npz.Save(plain, w => w.Add("w", new Tensor<float>(2)));
        Assert.Contains("not a NeuralNet checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(plain)).Message);
    }

    [Fact]
    public void Two_epochs_saved_loaded_and_two_more_equal_four_straight_epochs_bit_for_bit()
    {
        var data = ToyDatasets.Spirals<float>(60, 3, 0.2, seed: 4);
        var schedule = new CosineAnnealing(4, 0.001);
        TrainerOptions Options(int start) => new()
        {
            Epochs = 4, StartEpoch = start, BatchSize = 16, Seed = 11, Schedule = schedule, RestoreBestWeights = false, BaseLearningRate = 0.02,
        };

        var straight = Mlp(7);
        var adam = new Adam<float>(straight.Parameters(), 0.02);
        Trainer.Fit(straight, new CrossEntropyLoss<float>(), adam, data, null, Options(0));

        var first = Mlp(7);
        var adam1 = new Adam<float>(first.Parameters(), 0.02);
        Trainer.Fit(first, new CrossEntropyLoss<float>(), adam1, data, null, Options(0) with { Epochs = 2 });
        string path = Path.Combine(_dir, "resume.npz");
        Checkpoint.Save(path, first, adam1, new TrainingState(2, 11, 0.02));

        var resumed = Checkpoint.Load<float>(path);
        var adam2 = new Adam<float>(resumed.Parameters(), 0.02);
        Checkpoint.LoadOptimizer(path, adam2);
        var state = Checkpoint.ReadTrainingState(path)!;
        Assert.Equal(new TrainingState(2, 11, 0.02), state);
        Trainer.Fit(resumed, new CrossEntropyLoss<float>(), adam2, data, null,
            Options(state.NextEpoch) with { Seed = state.Seed, BaseLearningRate = state.BaseLearningRate });

        Assert.Equal(adam.StepCount, adam2.StepCount);
        Assert.Equal(straight.Parameters().SelectMany(p => p.Value.ToArray()), resumed.Parameters().SelectMany(p => p.Value.ToArray()));
    }

    [Fact]
    public void Optimizer_of_another_kind_is_refused()
    {
        var model = Mlp(1);
        string path = Path.Combine(_dir, "o.npz");
        Checkpoint.Save(path, model, new Adam<float>(model.Parameters()));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadOptimizer(path, new SGD<float>(model.Parameters(), 0.1, 0.9)));
        Assert.Contains("Adam", e.Message);
    }
}
