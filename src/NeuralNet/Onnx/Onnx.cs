using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Onnx;

/// <summary>
/// Writes a model as an ONNX file (onnx.ai): the evaluation-mode function y = f(x) as a graph of standard operators
/// (opset 17, IR version 8, float32) that ONNX Runtime and other engines run without this library; and reads one back
/// (<see cref="Import{T}(string)"/>) when its graph is a chain of operators this library has layers for, such as the
/// file torch.onnx.export writes for an nn.Sequential of Linear, Conv2d, pooling, BatchNorm and activation layers.
/// </summary>
/// <remarks>
/// The graph has one input, <c>input</c>, of shape (N, features) or (N, C, H, W), N symbolic, and one output,
/// <c>logits</c>: the model's raw output (a softmax only when the model ends in one). Weights are initializers
/// named as in a checkpoint ("0.weight"), stored as raw little-endian float32. Layer by layer:
/// <code>
///   Linear        y = x·Wᵀ + b                    → Gemm(x, W, b; transB = 1)
///   Conv2d        k×k, stride s, padding p         → Conv(x, W, b; kernel_shape [k,k], strides [s,s], pads [p,p,p,p])
///   MaxPool2d     k×k, stride s, no padding        → MaxPool(kernel_shape [k,k], strides [s,s], pads 0)
///   AvgPool2d     likewise                         → AveragePool(…)
///   BatchNorm1d/2d (running statistics)            → BatchNormalization(x, γ, β, running_mean, running_var; epsilon, momentum)
///   ReLU, Sigmoid, Tanh                            → Relu, Sigmoid, Tanh
///   LeakyReLU     y = max(x, 0) + α·min(x, 0)      → LeakyRelu(alpha = α)
///   Softmax       over the last dimension          → Softmax(axis = −1)
///   Flatten       (N, …) → (N, prod(…))            → Flatten(axis = 1)
///   Dropout       identity in evaluation           → no node
/// </code>
/// A float64 model is written as float32 (each value rounded to the nearest float); <see cref="OnnxExportResult.ConvertedFromFloat64"/>
/// says so. Nested <see cref="Sequential{T}"/>s are flattened; any other module type is refused, naming the layer.
/// </remarks>
/// <example><code>
/// var model = Checkpoint.Load&lt;float&gt;("best_model.npz");
/// var result = NeuralNet.Onnx.Onnx.Export(model, "model.onnx", [1, 28, 28]);   // input (N, 1, 28, 28)
/// </code></example>
public static class Onnx
{
    /// <summary>The ONNX IR version written (8: ONNX 1.12 and later read it).</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default operator set ("ai.onnx") the graph uses.</summary>
    public const long OpsetVersion = 17;

    /// <summary>The graph input's name.</summary>
    public const string InputName = "input";

    /// <summary>The graph output's name: the model's raw scores.</summary>
    public const string OutputName = "logits";

    /// <summary>The symbolic batch dimension (dim_param) of the input and output.</summary>
    public const string BatchDimension = "N";

    /// <summary>The producer_name written in the model.</summary>
    public const string ProducerName = "NeuralNet";

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> as ONNX, atomically (a temp file in the same folder,
    /// renamed over the destination). <paramref name="inputShape"/> is one sample's shape without the batch dimension:
    /// <c>[784]</c> for an MLP on MNIST, <c>[1, 28, 28]</c> for a CNN.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX form; the message names its index and type.</exception>
    /// <exception cref="ShapeMismatchException">The input shape does not fit a layer; the message names the layer and both shapes.</exception>
    public static OnnxExportResult Export<T>(Module<T> model, string path, int[] inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (bytes, result) = Serialize(model, inputShape);
        string full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is string folder) Directory.CreateDirectory(folder);
        string tmp = full + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
        return result;
    }

    /// <summary>Writes <paramref name="model"/> as ONNX to <paramref name="destination"/> (see <see cref="Export{T}(Module{T}, string, int[])"/>).</summary>
    public static OnnxExportResult Export<T>(Module<T> model, Stream destination, int[] inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        var (bytes, result) = Serialize(model, inputShape);
        destination.Write(bytes);
        return result;
    }

    /// <summary>
    /// Reads the ONNX model at <paramref name="path"/> as a <see cref="Sequential{T}"/> of this library's layers, weights
    /// included: the model evaluates, predicts, trains, saves as a checkpoint and exports like one built here.
    /// </summary>
    /// <remarks>
    /// The graph must be one chain (one float input, one output) of: Gemm, or MatMul followed by an Add of its bias
    /// (→ Linear); Conv (2-D, square kernel, one stride, equal pads, no dilation, group 1 → Conv2d); MaxPool and
    /// AveragePool (2-D, square window, one stride, no padding, ceil_mode 0 → MaxPool2d, AvgPool2d);
    /// BatchNormalization in its inference form (→ BatchNorm1d or BatchNorm2d by rank); Relu, LeakyRelu, Sigmoid, Tanh;
    /// Softmax over the last axis; Flatten (axis 1), or a Reshape to (N, −1) however its shape was computed (the
    /// Shape → Gather → Unsqueeze → Concat pattern of x.view(x.size(0), −1) included); Dropout (→ Dropout(ratio));
    /// Identity and Pad by zero (nothing). Weights are initializers or Constant nodes, stored in raw_data or the typed
    /// fields (float_data, double_data, int64_data, …). Default-domain opsets 6 to 17. The first axis of the input is
    /// the batch; elementwise layers take any rank. Float attributes are read as the shortest decimal that rounds to
    /// them (epsilon 1e-5, not 9.99999974737875e-06). The file is read strictly: a length or wire type that does not
    /// fit is an <see cref="InvalidDataException"/> naming the file and the field, and nothing is allocated that the
    /// file's bytes do not account for.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is damaged or inconsistent; the message names the file and the field or node.</exception>
    /// <exception cref="NotSupportedException">The graph uses an operator, attribute, type or feature (external data, several
    /// inputs, branches) with no equivalent here; the message names the file and the first node (name and op_type) or field.</exception>
    /// <example><code>
    /// var imported = NeuralNet.Onnx.Onnx.Import&lt;float&gt;("model.onnx");
    /// var logits = imported.Model.Forward(x);   // x (N, …imported.InputShape)
    /// </code></example>
    public static OnnxImportResult<T> Import<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        return OnnxImport.Build<T>(OnnxModelProto.Parse(bytes, path), path);
    }

    /// <summary>
    /// Reads an ONNX model from <paramref name="source"/> (to its end); <paramref name="name"/> names it in error messages.
    /// See <see cref="Import{T}(string)"/>.
    /// </summary>
    public static OnnxImportResult<T> Import<T>(Stream source, string name = "stream") where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        if (source.CanSeek && source.Length - source.Position > Array.MaxLength)
            throw new InvalidDataException($"{name}: {source.Length - source.Position} bytes; an ONNX file (a protobuf message) is at most 2 GB.");
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return OnnxImport.Build<T>(OnnxModelProto.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), name), name);
    }

    /// <summary>
    /// True when <paramref name="head"/>, a file's first bytes, starts as an ONNX model does: the ModelProto field
    /// ir_version (tag 0x08, which every protobuf writer puts first) with a small value, then another ModelProto field.
    /// An .npz ("PK…") or a safetensors file (an 8-byte header length, then '{') never does. Reading the file decides.
    /// </summary>
    public static bool LooksLikeOnnx(ReadOnlySpan<byte> head)
    {
        if (head.Length < 3 || head[0] != 0x08) return false;
        if (!ProtoWire.TryReadVarint(head[1..], out ulong ir, out int n) || ir is 0 or > 100) return false;
        if (!ProtoWire.TryReadVarint(head[(1 + n)..], out ulong tag, out _)) return false;
        var (field, type) = ProtoWire.SplitTag(tag);
        return (field, type) switch
        {
            (OnnxProto.Model.ModelVersion, WireType.Varint) => true,
            (OnnxProto.Model.ProducerName or OnnxProto.Model.ProducerVersion or OnnxProto.Model.Domain or OnnxProto.Model.DocString
                or OnnxProto.Model.Graph or OnnxProto.Model.OpsetImport or OnnxProto.Model.MetadataProps
                or OnnxProto.Model.TrainingInfo or OnnxProto.Model.Functions, WireType.LengthDelimited) => true,
            _ => false,
        };
    }

    /// <summary>The ONNX file's bytes and what they hold.</summary>
    internal static (byte[] Bytes, OnnxExportResult Result) Serialize<T>(Module<T> model, int[] inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        Architecture.CheckInputShape(inputShape, "Onnx.Export");
        var graph = new OnnxGraph();
        int[] sample = (int[])inputShape.Clone();
        string x = InputName;
        if (model is Sequential<T>) x = EmitChain(graph, model, "", x, ref sample);
        else x = EmitLayer(graph, model, "", x, ref sample);

        // The last value becomes "logits": rename the node that produced it, or copy the input when no node did
        // (an empty model, or dropout only).
        if (graph.Nodes.Count > 0 && graph.Nodes[^1].Output == x) graph.Nodes[^1].Output = OutputName;
        else graph.Add("Identity", "/Identity", [x], OutputName);

        bool converted = typeof(T) != typeof(float);
        string summary = Architecture.Summary(model);
        string doc = converted ? $"{summary} (float64 weights rounded to float32)" : summary;
        var w = new ProtoWriter();
        w.WriteInt64(OnnxProto.Model.IrVersion, IrVersion);
        w.WriteString(OnnxProto.Model.ProducerName, ProducerName);
        w.WriteString(OnnxProto.Model.ProducerVersion, typeof(Onnx).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        w.WriteString(OnnxProto.Model.DocString, doc);
        w.WriteMessage(OnnxProto.Model.Graph, g => graph.WriteTo(g, "NeuralNet", doc, InputName, inputShape, OutputName, sample, BatchDimension));
        w.WriteMessage(OnnxProto.Model.OpsetImport, o =>
        {
            o.WriteString(OnnxProto.OperatorSetId.Domain, "");
            o.WriteInt64(OnnxProto.OperatorSetId.Version, OpsetVersion);
        });
        w.WriteMessage(OnnxProto.Model.MetadataProps, m =>
        {
            m.WriteString(OnnxProto.StringStringEntry.Key, "source_dtype");
            m.WriteString(OnnxProto.StringStringEntry.Value, typeof(T) == typeof(float) ? "float32" : "float64");
        });
        byte[] bytes = w.ToArray();
        return (bytes, new OnnxExportResult(bytes.LongLength, (int[])inputShape.Clone(), sample, graph.Nodes.Count, converted, summary));
    }

    private static string EmitChain<T>(OnnxGraph g, Module<T> chain, string prefix, string x, ref int[] sample)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (name, child) in chain.Children())
        {
            string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            x = child is Sequential<T> ? EmitChain(g, child, path, x, ref sample) : EmitLayer(g, child, path, x, ref sample);
        }
        return x;
    }

    /// <summary>
    /// Adds the nodes and initializers of one layer reading value <paramref name="x"/>, whose per-sample shape is
    /// <paramref name="sample"/> (updated to the layer's output); returns the name of the layer's output value.
    /// </summary>
    private static string EmitLayer<T>(OnnxGraph g, Module<T> layer, string path, string x, ref int[] sample)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string p = path.Length == 0 ? "" : path + ".";    // initializer names as in the state dict: "0.weight"
        string Out(string op) => $"/{path}/{op}_output".Replace("//", "/", StringComparison.Ordinal);
        string Node(string op) => $"/{path}/{op}".Replace("//", "/", StringComparison.Ordinal);
        string label = Label(layer, path);
        int[] s = sample;
        switch (layer)
        {
            case Linear<T> l:
            {
                // y = x·Wᵀ + b: Gemm computes α·A·B' + β·C with B' = Bᵀ when transB = 1; W is (out, in) as stored.
                Expect(s.Length == 1 && s[0] == l.InFeatures, label, s, $"(N, {l.InFeatures})");
                string[] inputs = l.Bias is null ? [x, g.AddInitializer(p + "weight", l.Weight.Value)]
                    : [x, g.AddInitializer(p + "weight", l.Weight.Value), g.AddInitializer(p + "bias", l.Bias.Value)];
                sample = [l.OutFeatures];
                return g.Add("Gemm", Node("Gemm"), inputs, Out("Gemm"), OnnxAttribute.Of("transB", 1L)).Output;
            }
            case Conv2d<T> c:
            {
                Expect(s.Length == 3 && s[0] == c.InChannels, label, s, $"(N, {c.InChannels}, H, W)");
                int k = c.KernelSize, st = c.Stride, pad = c.Padding;
                int ho = (s[1] + 2 * pad - k) / st + 1, wo = (s[2] + 2 * pad - k) / st + 1;
                Expect(s[1] + 2 * pad >= k && s[2] + 2 * pad >= k, label, s, $"an image of at least {k}×{k} after padding {pad}");
                string[] inputs = c.Bias is null ? [x, g.AddInitializer(p + "weight", c.Weight.Value)]
                    : [x, g.AddInitializer(p + "weight", c.Weight.Value), g.AddInitializer(p + "bias", c.Bias.Value)];
                sample = [c.OutChannels, ho, wo];
                return g.Add("Conv", Node("Conv"), inputs, Out("Conv"),
                    OnnxAttribute.Of("kernel_shape", k, k), OnnxAttribute.Of("strides", st, st),
                    OnnxAttribute.Of("pads", pad, pad, pad, pad), OnnxAttribute.Of("dilations", 1L, 1L), OnnxAttribute.Of("group", 1L)).Output;
            }
            case Pool2d<T> pool:
            {
                // Ours: k×k windows, stride s, no padding, floor mode: the ONNX defaults but for the window and stride.
                Expect(s.Length == 3 && s[1] >= pool.KernelSize && s[2] >= pool.KernelSize, label, s, $"(N, C, H, W) with H, W ≥ {pool.KernelSize}");
                int k = pool.KernelSize, st = pool.Stride;
                sample = [s[0], (s[1] - k) / st + 1, (s[2] - k) / st + 1];
                string op = pool is MaxPool2d<T> ? "MaxPool" : pool is AvgPool2d<T> ? "AveragePool" : throw Unsupported(label);
                return g.Add(op, Node(op), [x], Out(op),
                    OnnxAttribute.Of("kernel_shape", k, k), OnnxAttribute.Of("strides", st, st),
                    OnnxAttribute.Of("pads", 0L, 0L, 0L, 0L), OnnxAttribute.Of("ceil_mode", 0L)).Output;
            }
            case BatchNorm<T> bn:
            {
                // Evaluation mode: y = (x − running_mean)/√(running_var + ε)·γ + β per channel (axis 1).
                bool fits = bn is BatchNorm2d<T> ? s.Length == 3 : s.Length is 1 or 2;
                Expect(fits && s[0] == bn.NumFeatures, label, s,
                    bn is BatchNorm2d<T> ? $"(N, {bn.NumFeatures}, H, W)" : $"(N, {bn.NumFeatures}) or (N, {bn.NumFeatures}, L)");
                string[] inputs =
                [
                    x, g.AddInitializer(p + "weight", bn.Weight.Value), g.AddInitializer(p + "bias", bn.Bias.Value),
                    g.AddInitializer(p + "running_mean", bn.RunningMean), g.AddInitializer(p + "running_var", bn.RunningVar),
                ];
                // NOTE: ONNX's momentum weighs the old statistic (running ← momentum·running + (1 − momentum)·batch),
                // PyTorch's and ours the new one, hence 1 − momentum. Inference ignores it.
                return g.Add("BatchNormalization", Node("BatchNormalization"), inputs, Out("BatchNormalization"),
                    OnnxAttribute.Of("epsilon", (float)bn.Eps), OnnxAttribute.Of("momentum", (float)(1 - bn.Momentum))).Output;
            }
            case ReLU<T>:
                return g.Add("Relu", Node("Relu"), [x], Out("Relu")).Output;
            case LeakyReLU<T> leaky:
                return g.Add("LeakyRelu", Node("LeakyRelu"), [x], Out("LeakyRelu"), OnnxAttribute.Of("alpha", float.CreateTruncating(leaky.NegativeSlope))).Output;
            case Sigmoid<T>:
                return g.Add("Sigmoid", Node("Sigmoid"), [x], Out("Sigmoid")).Output;
            case Tanh<T>:
                return g.Add("Tanh", Node("Tanh"), [x], Out("Tanh")).Output;
            case Softmax<T>:
                // Ours normalizes over the last dimension, as Softmax does with axis = −1 from opset 13 on (any rank).
                return g.Add("Softmax", Node("Softmax"), [x], Out("Softmax"), OnnxAttribute.Of("axis", -1L)).Output;
            case Flatten<T>:
                sample = [s.Aggregate(1, (a, b) => checked(a * b))];
                return g.Add("Flatten", Node("Flatten"), [x], Out("Flatten"), OnnxAttribute.Of("axis", 1L)).Output;
            case Dropout<T>:
                return x;   // the identity in evaluation mode
            default:
                throw Unsupported(label);
        }
    }

    private static string Label<T>(Module<T> layer, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string type = layer.GetType().Name.Split('`')[0];
        return path.Length == 0 ? $"the model ({type})" : $"layer {path} ({type})";
    }

    private static NotSupportedException Unsupported(string label) => new(
        $"Onnx.Export: {label} has no ONNX form; exportable: Sequential, Linear, Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d, " +
        "BatchNorm2d, Flatten, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax.");

    private static void Expect(bool ok, string label, int[] sample, string expected)
    {
        if (!ok) ThrowShape(label, sample, expected);
    }

    [DoesNotReturn]
    private static void ThrowShape(string label, int[] sample, string expected) => throw new ShapeMismatchException(
        $"Onnx.Export: {label} takes {expected}, but receives {Describe(sample)}; check the input shape (without the batch dimension) and the layers before it.");

    /// <summary>"(N, 1, 28, 28)".</summary>
    internal static string Describe(int[] sample) =>
        "(N" + string.Concat(sample.Select(d => ", " + d.ToString(CultureInfo.InvariantCulture))) + ")";
}
