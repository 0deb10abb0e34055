using System.Text.Json.Nodes;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Checkpoints;

/// <summary>The stored input shape, the two kinds of architecture document, and metadata updates that leave the weights alone.</summary>
public sealed class ArchitectureDocumentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-arch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Sequential<float> Cnn(ulong seed) => new(
        new Conv2d<float>(1, 3, 3, padding: 1, rng: new Rng(seed)), new BatchNorm2d<float>(3), new ReLU<float>(), new MaxPool2d<float>(2),
        new Flatten<float>(), new Linear<float>(3 * 3 * 3, 4, rng: new Rng(seed + 1)));

    private static string ArchitectureJson(string path)
    {
        using var npz = new NpzReader(path);
        return npz.GetText("architecture.json")!;
    }

    [Fact]
    public void Input_shape_is_a_top_level_field_read_back_as_saved_and_absent_when_not_given()
    {
        string with = Path.Combine(_dir, "with.npz"), without = Path.Combine(_dir, "without.npz");
        Checkpoint.Save(with, Cnn(1), inputShape: [1, 6, 6]);
        Checkpoint.Save(without, Cnn(1));

        Assert.Equal(new[] { 1, 6, 6 }, Checkpoint.ReadInputShape(with));
        Assert.Null(Checkpoint.ReadInputShape(without));
        var doc = JsonNode.Parse(ArchitectureJson(with))!;
        Assert.Equal("[1,6,6]", doc["input_shape"]!.ToJsonString());
        Assert.Null(doc["model"]!["input_shape"]);
        Assert.Null(JsonNode.Parse(ArchitectureJson(without))!["input_shape"]);

        Checkpoint.Save(with, new Sequential<float>(new Linear<float>(784, 10)), inputShape: [784]);
        Assert.Equal(new[] { 784 }, Checkpoint.ReadInputShape(with));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 1, 0, 28 })]
    [InlineData(new[] { -784 })]
    public void Save_refuses_an_input_shape_with_no_extents_or_a_nonpositive_one(int[] shape)
    {
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Save(Path.Combine(_dir, "bad.npz"), Cnn(1), inputShape: shape));
        Assert.Contains($"[{string.Join(", ", shape)}]", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "bad.npz")));
    }

    [Fact]
    public void Parse_builds_the_same_model_from_a_checkpoint_document_and_from_a_bare_description()
    {
        var model = Cnn(2);
        string path = Path.Combine(_dir, "m.npz");
        Checkpoint.Save(path, model, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" }, inputShape: [1, 6, 6]);
        string stored = ArchitectureJson(path);
        string bare = JsonNode.Parse(stored)!["model"]!.ToJsonString();
        Assert.StartsWith("{\"type\":\"Sequential\"", bare);

        Assert.Equal(model.ToString(), Architecture.Parse<float>(stored).ToString());
        Assert.Equal(model.ToString(), Architecture.Parse<float>(bare).ToString());
        Assert.Equal(model.ToString(), Architecture.BuildFromDocument<double>(JsonNode.Parse(bare)!).ToString());
        Assert.Equal(new[] { 1, 6, 6 }, Architecture.InputShape(JsonNode.Parse(stored)!));
        Assert.Null(Architecture.InputShape(JsonNode.Parse(bare)!));
    }

    [Fact]
    public void Load_accepts_a_checkpoint_whose_architecture_entry_is_a_bare_description()
    {
        var model = Cnn(3);
        model.Eval();
        string path = Path.Combine(_dir, "bare.npz");
        Npz.Save(path, w =>
        {
            foreach (var (name, t) in model.StateDict()) w.Add(name, t);
            w.AddText("architecture.json", Architecture.Describe(model).ToJsonString());
        });
        var loaded = Checkpoint.Load<float>(path);
        loaded.Eval();
        var x = Tensor<float>.RandomNormal(new Rng(4), 0, 1, 2, 1, 6, 6);
        Assert.True(model.Forward(x).ContentEquals(loaded.Forward(x)));
        Assert.Null(Checkpoint.ReadInputShape(path));
    }

    [Theory]
    [InlineData("{\"format\":\"neuralnet-checkpoint\",\"version\":1}", "neither \"type\"")]
    [InlineData("{\"format\":\"other-tool\",\"version\":1,\"model\":{\"type\":\"ReLU\"}}", "\"other-tool\"")]
    [InlineData("{\"format\":\"neuralnet-checkpoint\",\"version\":2,\"model\":{\"type\":\"ReLU\"}}", "version 2")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("{\"type\":\"Linear\",\"in_features\":\"784\",\"out_features\":10}", "\"in_features\" must be an integer, got \"784\"")]
    [InlineData("{\"type\":\"Sequential\",\"layers\":[{\"type\":\"Gelu\"}]}", "unknown layer type 'Gelu'")]
    [InlineData("{\"type\":", "not valid JSON")]
    public void Bad_documents_are_refused_saying_what_is_wrong(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Architecture.Parse<float>(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_bad_document_inside_a_checkpoint_names_the_file()
    {
        string path = Path.Combine(_dir, "broken.npz");
        Npz.Save(path, w => w.AddText("architecture.json", "{\"format\":\"neuralnet-checkpoint\",\"version\":1,\"input_shape\":[0,28],\"metadata\":{}}"));
        var load = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<float>(path));
        Assert.Contains("broken.npz", load.Message);
        Assert.Contains("neither \"type\"", load.Message);
        var shape = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadInputShape(path));
        Assert.Contains("broken.npz", shape.Message);
        Assert.Contains("\"input_shape\" must be a non-empty array of positive integers", shape.Message);
        Assert.Contains("[0,28]", shape.Message);
    }

    [Fact]
    public void UpdateMetadata_adds_and_replaces_keys_and_leaves_every_other_entry_byte_for_byte()
    {
        var model = Cnn(5);
        var adam = new Adam<float>(model.Parameters());
        model.Forward(Tensor<float>.RandomNormal(new Rng(6), 0, 1, 4, 1, 6, 6));
        model.Backward(Tensor<float>.RandomNormal(new Rng(7), 0, 1, 4, 4));
        adam.Step();
        string path = Path.Combine(_dir, "u.npz");
        Checkpoint.Save(path, model, adam, new TrainingState(3, 42, 1e-3),
            new Dictionary<string, string> { ["dataset"] = "mnist", ["seed"] = "42" }, inputShape: [1, 6, 6]);
        Dictionary<string, byte[]> before;
        using (var npz = new NpzReader(path)) before = npz.EntryNames.ToDictionary(n => n, npz.GetBytes);

        Checkpoint.UpdateMetadata(path, new Dictionary<string, string> { ["test_accuracy"] = "0.9875", ["seed"] = "7" });

        using (var npz = new NpzReader(path))
        {
            Assert.Equal(before.Keys, npz.EntryNames);
            foreach (var (name, bytes) in before)
                if (name != "architecture.json") Assert.True(bytes.AsSpan().SequenceEqual(npz.GetBytes(name)), name);
        }
        var meta = Checkpoint.ReadMetadata(path);
        Assert.Equal("mnist", meta["dataset"]);
        Assert.Equal("7", meta["seed"]);
        Assert.Equal("0.9875", meta["test_accuracy"]);
        Assert.Equal(new[] { 1, 6, 6 }, Checkpoint.ReadInputShape(path));
        Assert.Equal(new TrainingState(3, 42, 1e-3), Checkpoint.ReadTrainingState(path));
        Assert.Equal(model.ToString(), Checkpoint.Load<float>(path).ToString());
    }

    [Fact]
    public void ReadDType_tells_float32_from_float64()
    {
        string f = Path.Combine(_dir, "f.npz"), d = Path.Combine(_dir, "d.npz");
        Checkpoint.Save(f, new Sequential<float>(new Linear<float>(2, 2)));
        Checkpoint.Save(d, new Sequential<double>(new Linear<double>(2, 2)));
        Assert.Equal("float32", Checkpoint.ReadDType(f));
        Assert.Equal("float64", Checkpoint.ReadDType(d));
    }
}
