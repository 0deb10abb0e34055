using System.Text.Json.Nodes;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>Checkpoints as safetensors, the format told by content, and PyTorch state dicts loaded by name.</summary>
public sealed class SafetensorsCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-stckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Conv–BN–ReLU–pool, flatten, linear: parameters, buffers and parameterless layers in between.
    private static Sequential<float> Cnn(ulong seed, int channels = 3)
    {
        var rng = new Rng(seed);
        var model = new Sequential<float>(
            new Conv2d<float>(1, channels, 3, padding: 1, rng: rng), new BatchNorm2d<float>(channels), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(), new Linear<float>(channels * 4 * 4, 5, rng: rng));
        // Running statistics away from (0, 1), as after training.
        var bn = (BatchNorm2d<float>)model[1];
        Tensor<float>.RandomNormal(rng, 0, 1, channels).CopyTo(bn.RunningMean);
        Tensor<float>.RandomUniform(rng, 0.5, 2, channels).CopyTo(bn.RunningVar);
        Tensor<float>.RandomNormal(rng, 1, 0.2, channels).CopyTo(bn.Weight.Value);
        return model;
    }

    private static void AssertSameState(Module<float> expected, Module<float> actual)
    {
        var a = expected.StateDict().ToList();
        var b = actual.StateDict().ToList();
        Assert.Equal(a.Select(x => x.Name), b.Select(x => x.Name));
        for (int i = 0; i < a.Count; i++) Assert.True(a[i].Tensor.ContentEquals(b[i].Tensor), a[i].Name);
    }

    [Fact]
    public void SaveSafetensors_then_Load_rebuilds_the_model_bit_exactly_with_its_metadata()
    {
        var model = Cnn(1);
        string path = Path.Combine(_dir, "sub", "model.safetensors");
        Checkpoint.SaveSafetensors(path, model, new Dictionary<string, string> { ["dataset"] = "fashion-mnist" });

        var loaded = Checkpoint.Load<float>(path);
        Assert.Equal(model.ToString(), loaded.ToString());
        AssertSameState(model, loaded);
        var x = Tensor<float>.RandomNormal(new Rng(2), 0, 1, 2, 1, 8, 8);
        model.Eval();
        loaded.Eval();
        Assert.True(model.Forward(x).ContentEquals(loaded.Forward(x)));
        Assert.Equal("fashion-mnist", Checkpoint.ReadMetadata(path)["dataset"]);

        // The tensors are the state dict under its own names; the architecture is the document architecture.json holds.
        using var st = new SafetensorsReader(path);
        Assert.Equal(model.StateDict().Select(s => s.Name).Order(StringComparer.Ordinal), st.Names);
        string npz = Path.Combine(_dir, "model.npz");
        Checkpoint.Save(npz, model, metadata: new Dictionary<string, string> { ["dataset"] = "fashion-mnist" });
        using var zip = new NpzReader(npz);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(zip.GetText("architecture.json")!), JsonNode.Parse(st.Metadata["architecture"])));
    }

    [Fact]
    public void Double_models_round_trip_through_safetensors_as_F64()
    {
        var model = new Sequential<double>(new Linear<double>(3, 4, rng: new Rng(5)), new Tanh<double>(), new Linear<double>(4, 2, rng: new Rng(6)));
        string path = Path.Combine(_dir, "d.safetensors");
        Checkpoint.SaveSafetensors(path, model);
        using (var st = new SafetensorsReader(path)) Assert.Equal("F64", st.Info("0.weight").DType);
        var loaded = Checkpoint.Load<double>(path);
        Assert.Equal(model.Parameters().SelectMany(p => p.Value.ToArray()), loaded.Parameters().SelectMany(p => p.Value.ToArray()));
        Assert.Empty(Checkpoint.ReadMetadata(path));
    }

    [Fact]
    public void The_format_is_read_from_the_content_not_the_file_name()
    {
        var model = Cnn(3);
        string safetensorsNamedNpz = Path.Combine(_dir, "really-safetensors.npz");
        Checkpoint.SaveSafetensors(safetensorsNamedNpz, model, new Dictionary<string, string> { ["k"] = "st" });
        string npzNamedSafetensors = Path.Combine(_dir, "really-npz.safetensors");
        Checkpoint.Save(npzNamedSafetensors, model, metadata: new Dictionary<string, string> { ["k"] = "npz" });
        string noExtension = Path.Combine(_dir, "weights");
        File.Copy(safetensorsNamedNpz, noExtension);

        Assert.Equal((byte)'{', File.ReadAllBytes(safetensorsNamedNpz)[8]);
        Assert.Equal("PK"u8.ToArray(), File.ReadAllBytes(npzNamedSafetensors)[..2]);
        AssertSameState(model, Checkpoint.Load<float>(safetensorsNamedNpz));
        AssertSameState(model, Checkpoint.Load<float>(npzNamedSafetensors));
        AssertSameState(model, Checkpoint.Load<float>(noExtension));
        Assert.Equal("st", Checkpoint.ReadMetadata(safetensorsNamedNpz)["k"]);
        Assert.Equal("npz", Checkpoint.ReadMetadata(npzNamedSafetensors)["k"]);

        var into = Cnn(99);
        Checkpoint.LoadInto(safetensorsNamedNpz, into);
        AssertSameState(model, into);
        Assert.Null(Checkpoint.ReadTrainingState(safetensorsNamedNpz));
    }

    [Fact]
    public void Damaged_or_foreign_files_name_the_file_and_the_problem()
    {
        var model = Cnn(4);
        string good = Path.Combine(_dir, "good.safetensors");
        Checkpoint.SaveSafetensors(good, model);
        byte[] bytes = File.ReadAllBytes(good);

        string truncated = Path.Combine(_dir, "truncated.npz");
        File.WriteAllBytes(truncated, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(truncated));
        Assert.Contains("truncated.npz", e.Message);
        Assert.Contains("metadata incomplete buffer", e.Message);

        string text = Path.Combine(_dir, "notes.safetensors");
        File.WriteAllText(text, "just some text, not weights");
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(text));
        Assert.Contains("notes.safetensors: not a checkpoint", e.Message);
        Assert.Contains("74 20", e.Message);  // "st" of "just …": the first bytes, in hex

        string empty = Path.Combine(_dir, "empty.npz");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(empty)).Message);

        // A PyTorch state dict has no architecture: Load says how to import it instead.
        string bare = Path.Combine(_dir, "bare.safetensors");
        Safetensors.Save(bare, model.StateDict());
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(bare));
        Assert.Contains("not a NeuralNet checkpoint", e.Message);
        Assert.Contains("__metadata__ \"architecture\"", e.Message);
        Assert.Contains("ImportStateDict", e.Message);
    }

    [Fact]
    public void ImportStateDict_loads_by_name_and_skips_num_batches_tracked()
    {
        var source = Cnn(7);
        var state = source.StateDict().ToList();
        var tracked = Tensor<float>.Scalar(12);
        string path = Path.Combine(_dir, "state.safetensors");
        Safetensors.Save(path, state.Append(("1.num_batches_tracked", tracked)));

        var target = Cnn(8);
        var skipped = Checkpoint.ImportStateDict(path, target);
        Assert.Equal(new[] { "1.num_batches_tracked" }, skipped);
        AssertSameState(source, target);
    }

    [Fact]
    public void ImportStateDict_lists_every_mismatch_at_once_with_both_shapes_and_loads_nothing()
    {
        string path = Path.Combine(_dir, "state.npz");
        Npz.Save(path, w =>
        {
            foreach (var (name, t) in Cnn(9).StateDict()) w.Add(name, t);
            w.Add("6.weight", new Tensor<float>(2, 2));  // a layer the model does not have
        });

        // 4 channels instead of 3: conv, BN (4 tensors) and the linear layer's input all change shape.
        var wrong = new Sequential<float>(
            new Conv2d<float>(1, 4, 3, padding: 1), new BatchNorm2d<float>(4), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(), new Linear<float>(4 * 4 * 4, 5, bias: false));
        var before = wrong.StateDict().Select(s => s.Tensor.Clone()).ToList();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ImportStateDict(path, wrong));
        string m = e.Message;
        Assert.StartsWith(path + ": the npz state dict does not fit the model (9 mismatches)", m);
        Assert.Contains("'0.weight': the file has (3, 1, 3, 3), the model needs (4, 1, 3, 3)", m);
        Assert.Contains("'0.bias': the file has (3,), the model needs (4,)", m);
        Assert.Contains("'1.weight': the file has (3,), the model needs (4,)", m);
        Assert.Contains("'1.bias': the file has (3,), the model needs (4,)", m);
        Assert.Contains("'1.running_mean': the file has (3,), the model needs (4,)", m);
        Assert.Contains("'1.running_var': the file has (3,), the model needs (4,)", m);
        Assert.Contains("'5.weight': the file has (5, 48), the model needs (5, 64)", m);
        Assert.Contains("'5.bias': the file has (5,), the model has no such tensor", m);
        Assert.Contains("'6.weight': the file has (2, 2), the model has no such tensor", m);
        Assert.Equal(9, m.Split('\n').Length - 1);
        foreach (var (b, (name, now)) in before.Zip(wrong.StateDict())) Assert.True(b.ContentEquals(now), $"{name} changed");

        // And a tensor the file lacks.
        var longer = new Sequential<float>(
            new Conv2d<float>(1, 3, 3, padding: 1), new BatchNorm2d<float>(3), new ReLU<float>(), new MaxPool2d<float>(2),
            new Flatten<float>(), new Linear<float>(48, 5), new Linear<float>(5, 2));
        m = Assert.Throws<InvalidDataException>(() => Checkpoint.ImportStateDict(path, longer)).Message;
        Assert.Contains("(2 mismatches)", m);
        Assert.Contains("'6.weight': the file has (2, 2), the model needs (2, 5)", m);
        Assert.Contains("'6.bias': the model needs (2,), the file has no such tensor", m);
    }
}
