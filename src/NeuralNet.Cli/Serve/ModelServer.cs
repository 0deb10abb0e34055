using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using NeuralNet.Checkpoints;
using NeuralNet.Cli.Commands;
using NeuralNet.Cli.Tables;
using NeuralNet.Data;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Serve;

/// <summary>
/// A checkpoint loaded as a small pool of identical models, so that requests on different threads never share one:
/// a model reuses its activation buffers from call to call, so two Forwards on one instance at once would overwrite
/// each other. A request takes a free instance, runs it, copies out what it needs and gives the instance back.
/// </summary>
/// <remarks>
/// The kernels' thread pool serves one caller at a time (<see cref="NeuralNet.Tensors.Kernels.Parallelism"/>), so
/// instances running at once queue there unless <see cref="TensorOps.Threads"/> is 1; <c>nn serve</c> sets it to 1 and
/// lets the requests themselves use the cores.
/// </remarks>
internal sealed class ModelServer
{
    private readonly Channel<Instance> _free;

    /// <summary>Loads <paramref name="instances"/> copies of the model in <paramref name="path"/>.</summary>
    /// <exception cref="CliException">The checkpoint cannot be read, or its model takes no input that can be told.</exception>
    public ModelServer(string path, int instances)
    {
        if (instances < 1) throw new CliException($"the server needs at least one model instance, got {instances}");
        if (!File.Exists(path)) throw new CliException($"model file not found: {path}", 1);
        var models = new Module<float>[instances];
        int[]? storedShape;
        try
        {
            for (int i = 0; i < instances; i++) models[i] = Checkpoint.Load<float>(path);
            Metadata = Checkpoint.ReadMetadata(path);
            storedShape = Checkpoint.ReadInputShape(path);
        }
        catch (Exception e) when (e is InvalidDataException or ShapeMismatchException or KeyNotFoundException or IOException)
        {
            throw new CliException(e.Message, 1);
        }
        Path = path;
        Table = Metadata.TryGetValue(TablePreprocessing.MetadataKey, out var stored) ? TablePreprocessing.FromJson(stored, path) : null;
        SampleShape = ModelInput.Shape(models[0], storedShape);
        SampleLength = SampleShape.Aggregate(1, (a, b) => a * b);
        string? dataset = Metadata.TryGetValue("dataset", out var d) && Mnist.KnownDatasets.Contains(d) ? d : null;
        try
        {
            Preparation = ModelInput.For(SampleShape, dataset);
        }
        catch (CliException)
        {
            Preparation = null; // not a picture: the model still takes its input as numbers
        }

        _free = Channel.CreateBounded<Instance>(instances);
        foreach (var m in models)
        {
            m.Eval();
            _free.Writer.TryWrite(new Instance(m, new Tensor<float>([1, .. SampleShape])));
        }
        Instances = instances;

        // one pass on a blank input tells the number of classes (and sizes every instance's buffers the same way)
        Classes = Run(new float[SampleLength], activations: false).Probabilities.Length;
        if (Table is not null && Table.Inputs != SampleLength)
            throw new CliException($"{path}: the stored table preprocessing gives {Table.Inputs} inputs, but the model takes {SampleLength}", 1);
        ClassNames = Table is { IsClassification: true } && Table.Classes.Length == Classes ? Table.Classes
            : dataset is not null && Mnist.ClassNamesOf(dataset).Count == Classes ? Mnist.ClassNamesOf(dataset)
            : Enumerable.Range(0, Classes).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        Card = BuildCard(models[0]);
    }

    /// <summary>The checkpoint's path.</summary>
    public string Path { get; }

    /// <summary>How many copies of the model serve requests at once.</summary>
    public int Instances { get; }

    /// <summary>The shape of one input sample, without the batch dimension: [1, 28, 28] or [784] for MNIST models.</summary>
    public int[] SampleShape { get; }

    /// <summary>The number of values in one sample: the product of <see cref="SampleShape"/>.</summary>
    public int SampleLength { get; }

    /// <summary>How an uploaded picture becomes an input, as <c>nn predict</c> prepares it; null when the input is no picture.</summary>
    public Preparation? Preparation { get; }

    /// <summary>The columns, categories, statistics and task <c>nn train --csv</c> stored; null for a model not trained on a table.</summary>
    public TablePreprocessing? Table { get; }

    /// <summary>The number of classes the model scores (1 for a regression model: its one output).</summary>
    public int Classes { get; }

    /// <summary>The class names, in class order ("0" … "9" for MNIST digits).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The checkpoint's metadata (dataset, model, test_accuracy, …).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>What <c>GET /api/model</c> answers: architecture, input shape, class names, parameter count, metadata.</summary>
    public JsonObject Card { get; }

    /// <summary>
    /// Classifies one sample (<see cref="SampleLength"/> values, row-major, already checked by the caller), waiting for a
    /// free instance; with <paramref name="activations"/> every layer's output comes back too.
    /// </summary>
    public async ValueTask<PredictResponse> PredictAsync(float[] sample, bool activations, CancellationToken cancel)
    {
        var instance = await _free.Reader.ReadAsync(cancel);
        try
        {
            return instance.Predict(sample, activations, ClassNames);
        }
        finally
        {
            _free.Writer.TryWrite(instance);
        }
    }

    /// <summary>
    /// Runs a table model on one row: <paramref name="cells"/> in the order of <see cref="Table"/>'s columns (checked by
    /// <see cref="FeaturesRequest"/>) become inputs through <see cref="TablePreprocessing.Features"/>, as for
    /// <c>nn predict --csv</c>. Classification answers a <see cref="PredictResponse"/>, regression a
    /// <see cref="RegressionResponse"/> on the target's original scale.
    /// </summary>
    public async ValueTask<object> PredictTableAsync(string[] cells, CancellationToken cancel)
    {
        var prep = Table ?? throw new InvalidOperationException("ModelServer: PredictTableAsync on a model not trained on a table.");
        float[] sample;
        try
        {
            sample = prep.Features(CsvTable.OfRow("the request", prep.Columns.Select(c => c.Name).ToArray(), cells), [0]).Span.ToArray();
        }
        catch (CliException e)
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "Bad features", e.Message);
        }
        var instance = await _free.Reader.ReadAsync(cancel);
        float[] outputs;
        try
        {
            outputs = instance.Outputs(sample);
        }
        finally
        {
            _free.Writer.TryWrite(instance);
        }
        if (!prep.IsClassification) return new RegressionResponse(prep.TargetValue(outputs[0]));
        double[] p = PredictCommand.Softmax(outputs);
        int best = 0;
        for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
        return new PredictResponse(best, ClassNames[best], p, null, null);
    }

    /// <summary>Synchronous <see cref="PredictAsync"/> for the constructor, when every instance is free.</summary>
    private PredictResponse Run(float[] sample, bool activations)
    {
        if (!_free.Reader.TryRead(out var instance)) throw new InvalidOperationException("ModelServer: no free instance while starting.");
        try
        {
            return instance.Predict(sample, activations, null);
        }
        finally
        {
            _free.Writer.TryWrite(instance);
        }
    }

    private JsonObject BuildCard(Module<float> model)
    {
        long parameters = model.ParameterCount();
        var metadata = new JsonObject();
        // the stored preprocessing is long JSON; a table model's card gives it as "columns", "task" and "target" instead
        foreach (var (key, value) in Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) if (Table is null || key != TablePreprocessing.MetadataKey) metadata[key] = value;
        var card = new JsonObject
        {
            ["summary"] = Architecture.Summary(model),
            ["architecture"] = Architecture.Describe(model),
            ["parameters"] = parameters,
            ["inputShape"] = new JsonArray(SampleShape.Select(s => (JsonNode)s).ToArray()),
            ["classes"] = new JsonArray(ClassNames.Select(c => (JsonNode)c).ToArray()),
            ["preparation"] = Preparation?.ToString(),
            ["acceptsImages"] = Preparation is not null,
            ["file"] = System.IO.Path.GetFileName(Path),
            ["metadata"] = metadata,
        };
        if (Table is not null)
        {
            // a table model: its columns make the page's form, the training mean a numeric field's default
            card["input"] = "features";
            card["task"] = Table.Task;
            card["target"] = Table.Target;
            if (!Table.IsClassification) card["classes"] = new JsonArray();
            card["columns"] = new JsonArray(Table.Columns.Select(c => (JsonNode)(c.IsNumeric
                ? new JsonObject { ["name"] = c.Name, ["kind"] = c.Kind, ["mean"] = c.Mean, ["std"] = c.Std, ["fillable"] = c.Fill is not null }
                : new JsonObject { ["name"] = c.Name, ["kind"] = c.Kind, ["categories"] = new JsonArray(c.Categories.Select(k => (JsonNode)k).ToArray()), ["fillable"] = c.FillCategory is not null })).ToArray());
        }
        else card["input"] = "pixels";
        if (Metadata.TryGetValue("test_accuracy", out var acc) && double.TryParse(acc, NumberStyles.Float, CultureInfo.InvariantCulture, out double accuracy))
            card["testAccuracy"] = accuracy;
        return card;
    }

    /// <summary>One model and its input buffer (1, …sample shape); used by one request at a time.</summary>
    private sealed class Instance(Module<float> model, Tensor<float> input)
    {
        /// <summary>The model's outputs for one sample, copied out (the logits, or a regression's one value).</summary>
        public float[] Outputs(float[] sample)
        {
            sample.CopyTo(input.Span);
            var y = model.Forward(input);
            if (y.Rank != 2 || y.Shape[0] != 1)
                throw new ShapeMismatchException($"the model gives {y.Shape} for one sample; expected one row of outputs");
            return y.Row(0).ToArray();
        }

        public PredictResponse Predict(float[] sample, bool activations, IReadOnlyList<string>? names)
        {
            sample.CopyTo(input.Span);
            List<LayerActivation>? layers = activations ? [] : null;
            Tensor<float> logits;
            if (activations && model is Sequential<float> chain)
            {
                // layer by layer, keeping a copy of each output (the same values as Sequential.Forward's fused BatchNorm-ReLU)
                var x = input;
                for (int i = 0; i < chain.Count; i++)
                {
                    x = chain[i].Forward(x);
                    layers!.Add(new LayerActivation(i.ToString(CultureInfo.InvariantCulture), LayerType(chain[i]), chain[i].ToString() ?? "", x.Shape.Dims[1..].ToArray(), x.Span.ToArray()));
                }
                logits = x;
            }
            else
            {
                logits = model.Forward(input);
                layers?.Add(new LayerActivation("output", LayerType(model), model.ToString() ?? "", logits.Shape.Dims[1..].ToArray(), logits.Span.ToArray()));
            }
            if (logits.Rank != 2 || logits.Shape[0] != 1)
                throw new ShapeMismatchException($"the model gives {logits.Shape} for one sample; expected one row of class scores");
            double[] p = PredictCommand.Softmax(logits.Row(0));
            int best = 0;
            for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
            return new PredictResponse(best, names?[best] ?? best.ToString(CultureInfo.InvariantCulture), p, null, layers);
        }

        private static string LayerType(Module<float> m) => m.GetType().Name.Split('`')[0];
    }
}
