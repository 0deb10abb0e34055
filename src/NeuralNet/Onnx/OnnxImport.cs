using System.Globalization;
using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Onnx;

/// <summary>
/// Turns a parsed ONNX graph that is a chain of operators this library has layers for into a <see cref="Sequential{T}"/>:
/// the graph <see cref="Onnx.Export{T}(Module{T}, string, int[])"/> writes, and the graphs torch.onnx.export writes for an
/// nn.Sequential of the same layer types. Anything else is refused, naming the first node (or attribute) that has no
/// layer here.
/// </summary>
/// <remarks>
/// The graph is walked once, in node order, keeping three kinds of values: the data flowing down the chain (its shape
/// tracked as far as it is known, the first axis being the batch), constants (initializers, Constant nodes) and shape
/// arithmetic (Shape → Gather → Unsqueeze → Concat, as older exporters compute x.view(x.size(0), −1)). Every layer
/// operator must read the chain's latest value, so branches, skip connections and second data inputs are refused.
/// <code>
///   Gemm(x, B, C)          transA = 0; W = B (transB = 1) or Bᵀ (transB = 0); α, β folded into W and b  → Linear
///   MatMul(x, B) [+ Add(·, b)]   B (in, out) constant, b (out)                                        → Linear (Wᵀ = B)
///   Conv                   2-D, square kernel, one stride, equal pads, dilations 1, group 1            → Conv2d
///   MaxPool, AveragePool   2-D, square kernel, one stride, no padding, ceil_mode 0, dilations 1        → MaxPool2d, AvgPool2d
///   BatchNormalization     inference form (running statistics); (N, C) or (N, C, L) / (N, C, H, W)     → BatchNorm1d / 2d
///   Relu, LeakyRelu, Sigmoid, Tanh                                                                      → the activation
///   Softmax                over the last axis (opset &lt; 13: axis = rank − 1 coerces to the same)       → Softmax
///   Flatten (axis 1), or Reshape to (N, −1) / (N, C·H·W) however the shape was computed                → Flatten
///   Dropout                not in training mode; ratio p                                               → Dropout(p)
///   Identity, Pad with all pads 0                                                                       → nothing
/// </code>
/// Opsets 6 to 17 of the default domain. Older operator versions' attributes are checked for the inference meaning
/// (BatchNormalization and Dropout is_test = 1, spatial = 1; Gemm and Add broadcast). The first axis is taken as the batch
/// whatever its extent, so a graph whose input is (3, 4, 5) imports too: elementwise activations, Softmax, Dropout and
/// Identity take any rank, Gemm and MatMul need rank 2, Conv and the pools rank 4, BatchNormalization rank 2 to 4.
/// Float attributes (epsilon, alpha) are read as the shortest decimal that rounds to the stored float (1e-5, not
/// 9.99999974737875e-06), the value the exporting framework most likely had.
/// </remarks>
internal static class OnnxImport
{
    /// <summary>The oldest default-domain opset read.</summary>
    public const long MinOpset = 6;

    /// <summary>The newest default-domain opset read.</summary>
    public const long MaxOpset = 17;

    /// <summary>What the importer reads, for messages.</summary>
    public const string Supported =
        "Gemm, MatMul (+ Add), Conv, MaxPool, AveragePool, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, Flatten " +
        "(or Shape → Gather → Unsqueeze → Concat → Reshape), Dropout, Identity, Pad by 0, and Constant";

    /// <summary>Builds the model; <paramref name="source"/> names the file in errors.</summary>
    /// <exception cref="NotSupportedException">The graph uses something with no layer here; the message names the node and what.</exception>
    /// <exception cref="InvalidDataException">The graph is inconsistent (a value used before it is defined, shapes that disagree).</exception>
    public static OnnxImportResult<T> Build<T>(OnnxModelProto model, string source) where T : unmanaged, IFloatingPointIeee754<T> =>
        new Chain<T>(model, source).Build();

    /// <summary>"[6, 5]".</summary>
    internal static string Dims(IEnumerable<long> dims) => "[" + string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>"(N, 1, ?, ?)": a data value's shape, "?" where unknown, the first axis the batch.</summary>
    internal static string DataDims(IReadOnlyList<int?> dims, bool staticBatch) => "(" + string.Join(", ", dims.Select((d, i) =>
        i == 0 && !staticBatch ? "N" : d?.ToString(CultureInfo.InvariantCulture) ?? "?")) + ")";

    /// <summary>The double closest to the shortest decimal that rounds to <paramref name="value"/>: 1e-5f → 1e-5.</summary>
    internal static double ShortestDecimal(float value) =>
        double.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>An element of shape arithmetic: a known integer, the batch extent, or an unknown extent.</summary>
    private readonly record struct Sym(long Value, SymKind Kind)
    {
        public static Sym Known(long v) => new(v, SymKind.Known);

        public override string ToString() => Kind switch
        {
            SymKind.Known => Value.ToString(CultureInfo.InvariantCulture),
            SymKind.Batch => "N",
            _ => "?",
        };
    }

    private enum SymKind
    {
        Known,
        Batch,
        Unknown,
    }

    /// <summary>A shape-arithmetic value: a vector (or a scalar) of <see cref="Sym"/>s.</summary>
    private sealed record ShapeValue(Sym[] Elements, bool IsScalar);

    /// <summary>The graph walk: state and one method per operator.</summary>
    private sealed class Chain<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly OnnxModelProto _model;
        private readonly string _source;
        private readonly long _opset;
        private readonly Dictionary<string, OnnxTensorProto> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ShapeValue> _shapes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int?[]> _data = new(StringComparer.Ordinal);   // per data value: dims, [0] the batch
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly List<Module<T>> _layers = [];
        private readonly Rng _rng = new(0);   // the initial draws are overwritten; a fixed source leaves Init.DefaultRng alone
        private readonly bool _staticBatch;
        private string _current = "";
        private (OnnxNodeProto Node, OnnxTensorProto B)? _pendingMatMul;   // a MatMul whose Add (bias) may follow

        public Chain(OnnxModelProto model, string source)
        {
            _model = model;
            _source = source;
            _opset = model.DefaultOpset ?? throw new InvalidDataException(
                $"{source}: ModelProto.opset_import: no entry for the default operator set (domain \"\"); the file does not say which operator versions it uses.");
            if (_opset < MinOpset || _opset > MaxOpset)
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"{source}: opset {_opset} of the default domain is not supported; this importer reads opsets {MinOpset} to {MaxOpset}."));
            var graph = model.Graph;
            if (graph.SparseInitializers > 0)
                throw new NotSupportedException($"{source}: ModelProto.graph.sparse_initializer: sparse initializers are not supported.");
            foreach (var t in graph.Initializers)
            {
                if (!_constants.TryAdd(t.Name, t))
                    throw new InvalidDataException($"{source}: ModelProto.graph.initializer: the name '{t.Name}' is used twice.");
            }
            foreach (var node in graph.Nodes)
                foreach (string input in node.Inputs) _used.Add(input);
            foreach (var output in graph.Outputs) _used.Add(output.Name);

            // The data input: the one graph input no initializer fills (IR version 3 files list the weights as inputs too).
            var inputs = graph.Inputs.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1)
            {
                throw new NotSupportedException(inputs.Count == 0
                    ? $"{source}: the graph has no input that an initializer does not fill; a model here takes one input."
                    : $"{source}: the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); a model here takes one.");
            }
            Input = inputs[0];
            if (Input.ElementType is not (OnnxProto.DataType.Float or OnnxProto.DataType.Double))
                throw new NotSupportedException($"{source}: graph input '{Input.Name}' is {(Input.ElementType == 0 ? "not a tensor" : OnnxTensorProto.TypeName(Input.ElementType))}; a model here takes float32 or float64.");
            if (Input.Dims is not { Length: > 0 } dims)
                throw new NotSupportedException($"{source}: graph input '{Input.Name}' has {(Input.Dims is null ? "no shape" : "rank 0")}; the importer needs at least its rank.");
            _staticBatch = dims[0] is not null;
            _data[Input.Name] = dims.Select(d => d is > 0 and <= int.MaxValue ? (int?)d : null).ToArray();
            _current = Input.Name;
        }

        private OnnxValueInfoProto Input { get; }

        public OnnxImportResult<T> Build()
        {
            foreach (var node in _model.Graph.Nodes) Visit(node);
            FlushMatMul();
            var outputs = _model.Graph.Outputs;
            if (outputs.Count != 1)
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: the graph has {outputs.Count} outputs ({string.Join(", ", outputs.Select(o => $"'{o.Name}'"))}); a model here has one."));
            string output = outputs[0].Name;
            if (output != _current)
            {
                string what = _constants.ContainsKey(output) ? "a constant" : _shapes.ContainsKey(output) ? "a shape computation"
                    : _data.ContainsKey(output) ? "an intermediate value" : "a value no node produces";
                throw new NotSupportedException($"{_source}: graph output '{output}' is {what}, not the end of the chain ('{_current}').");
            }
            var model = new Sequential<T>(_layers.ToArray());
            model.Eval();
            int?[] inDims = _data[Input.Name], outDims = _data[_current];
            int[]? Sample(int?[] d) => d.Length > 1 && d.Skip(1).All(x => x is not null) ? d.Skip(1).Select(x => x!.Value).ToArray() : null;
            string producer = (_model.ProducerName + " " + _model.ProducerVersion).Trim();
            return new OnnxImportResult<T>(model, Sample(inDims), Sample(outDims), Input.Name, output,
                OnnxTensorProto.TypeName(Input.ElementType), _opset, producer, _model.Graph.Nodes.Count, Architecture.Summary(model));
        }

        private void Visit(OnnxNodeProto node)
        {
            if (node.Domain is not ("" or "ai.onnx"))
                throw Unsupported(node, $"domain '{node.Domain}' is not the default operator set; this importer reads {Supported}");
            foreach (string input in node.Inputs)
            {
                if (input.Length > 0 && !_constants.ContainsKey(input) && !_shapes.ContainsKey(input) && !_data.ContainsKey(input))
                {
                    throw new InvalidDataException(
                        $"{_source}: {node.Label} reads '{input}', which no earlier node, initializer or graph input defines (nodes must come in topological order).");
                }
            }
            if (node.Outputs.Length == 0 || node.Outputs[0].Length == 0)
                throw new InvalidDataException($"{_source}: {node.Label} has no output.");
            foreach (var a in node.Attributes.Values)
            {
                if (a.RefAttrName is not null) throw Unsupported(node, $"attribute '{a.Name}' refers to a function's attribute ('{a.RefAttrName}')");
            }
            // A MatMul's bias is the next node that reads data, or none (Constant nodes may come between).
            if (_pendingMatMul is { } pending && node.Inputs.Any(_data.ContainsKey)
                && !(node.OpType == "Add" && node.Inputs.Contains(pending.Node.Outputs[0]))) FlushMatMul();

            switch (node.OpType)
            {
                case "Constant": Constant(node); break;
                case "Identity": Identity(node); break;
                case "Shape": Shape(node); break;
                case "Gather": Gather(node); break;
                case "Unsqueeze": Unsqueeze(node); break;
                case "Concat": Concat(node); break;
                case "Transpose": Transpose(node); break;
                case "Gemm": Gemm(node); break;
                case "MatMul": MatMul(node); break;
                case "Add": Add(node); break;
                case "Conv": Conv(node); break;
                case "MaxPool": Pool(node, max: true); break;
                case "AveragePool": Pool(node, max: false); break;
                case "BatchNormalization": BatchNormalization(node); break;
                case "Relu": Activation(node, new ReLU<T>()); break;
                case "Sigmoid": Activation(node, new Sigmoid<T>()); break;
                case "Tanh": Activation(node, new Tanh<T>()); break;
                case "LeakyRelu":
                    Known(node, "alpha");
                    Activation(node, new LeakyReLU<T>(ShortestDecimal(Float(node, "alpha", 0.01f))));
                    break;
                case "Softmax": Softmax(node); break;
                case "Flatten": Flatten(node); break;
                case "Reshape": Reshape(node); break;
                case "Dropout": Dropout(node); break;
                case "Pad": Pad(node); break;
                default: throw Unsupported(node, $"operator {node.OpType} has no layer here; this importer reads {Supported}");
            }
        }

        // ---- constants and shape arithmetic ----------------------------------------------------------------------

        private void Constant(OnnxNodeProto node)
        {
            Known(node, "value", "value_float", "value_floats", "value_int", "value_ints");
            var a = node.Attributes;
            OnnxTensorProto value = a.TryGetValue("value", out var v) && v.Tensor is not null ? v.Tensor
                : a.TryGetValue("value_float", out v) ? OnnxTensorProto.OfFloats("", [], [v.Float])
                : a.TryGetValue("value_floats", out v) ? OnnxTensorProto.OfFloats("", [v.Floats.Length], v.Floats)
                : a.TryGetValue("value_int", out v) ? OnnxTensorProto.OfInt64s("", [], [v.Int])
                : a.TryGetValue("value_ints", out v) ? OnnxTensorProto.OfInt64s("", [v.Ints.Length], v.Ints)
                : throw new InvalidDataException($"{_source}: {node.Label} has no value attribute.");
            _constants[node.Outputs[0]] = value;
        }

        private void Identity(OnnxNodeProto node)
        {
            Known(node);
            string x = node.Input(0), y = node.Outputs[0];
            if (_constants.TryGetValue(x, out var c)) _constants[y] = c;
            else if (_shapes.TryGetValue(x, out var s)) _shapes[y] = s;
            else Advance(node, _data[ChainInput(node)]);
        }

        private void Shape(OnnxNodeProto node)
        {
            Known(node, "start", "end");
            string x = node.Input(0);
            if (!_data.TryGetValue(x, out var dims)) throw Unsupported(node, "Shape of a constant has no use in a chain of layers");
            // The first extent stands for the batch even when the graph fixes it.
            var all = dims.Select((d, i) => i == 0 ? new Sym(0, SymKind.Batch) : d is int e ? Sym.Known(e) : new Sym(0, SymKind.Unknown)).ToArray();
            int r = all.Length;
            int Clamp(long axis) => (int)Math.Clamp(axis < 0 ? axis + r : axis, 0, r);
            int start = Clamp(Int(node, "start", 0)), end = Clamp(Int(node, "end", r));
            _shapes[node.Outputs[0]] = new ShapeValue(all[start..Math.Max(start, end)], IsScalar: false);
        }

        private void Gather(OnnxNodeProto node)
        {
            Known(node, "axis");
            var data = ShapeInput(node, 0, "Gather on the data (an embedding lookup) has no layer here");
            if (!_constants.TryGetValue(node.Input(1), out var indices) || indices.Integers is null || indices.Rank > 1)
                throw Unsupported(node, "Gather's indices must be a constant integer scalar or vector");
            if (Int(node, "axis", 0) is not (0 or -1) || data.IsScalar) throw Unsupported(node, "Gather on a shape vector takes axis 0");
            var picked = new Sym[indices.Count];
            for (int i = 0; i < picked.Length; i++)
            {
                long k = indices.Integers[i];
                if (k < 0) k += data.Elements.Length;
                if (k < 0 || k >= data.Elements.Length)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{_source}: {node.Label}: index {indices.Integers[i]} is outside a vector of {data.Elements.Length}."));
                picked[i] = data.Elements[k];
            }
            _shapes[node.Outputs[0]] = new ShapeValue(picked, IsScalar: indices.Rank == 0);
        }

        private void Unsqueeze(OnnxNodeProto node)
        {
            Known(node, "axes");
            long[] axes = _opset < 13 ? Ints(node, "axes") ?? throw new InvalidDataException($"{_source}: {node.Label} has no axes attribute.")
                : ConstantInts(node, 1, "axes");
            if (_constants.TryGetValue(node.Input(0), out var c))
            {
                // A constant: the same elements with 1s inserted at the axes.
                int rank = c.Rank + axes.Length;
                var dims = new List<long>(c.Dims);
                foreach (long a in axes.Select(a => a < 0 ? a + rank : a).Order())
                {
                    if (a < 0 || a > dims.Count) throw new InvalidDataException($"{_source}: {node.Label}: axes {Dims(axes)} do not fit rank {c.Rank}.");
                    dims.Insert((int)a, 1);
                }
                _constants[node.Outputs[0]] = c.WithDims(dims.ToArray());
                return;
            }
            var s = ShapeInput(node, 0, "Unsqueeze of the data has no layer here");
            if (!s.IsScalar || axes.Length != 1 || axes[0] is not (0 or -1))
                throw Unsupported(node, $"Unsqueeze with axes {Dims(axes)} of a shape value: only a scalar made a vector (axes [0]) is shape arithmetic");
            _shapes[node.Outputs[0]] = s with { IsScalar = false };
        }

        private void Concat(OnnxNodeProto node)
        {
            Known(node, "axis");
            var inputs = node.Inputs.Select((_, i) => ShapeInput(node, i, "Concat of data values (a branch joining) has no layer here")).ToList();
            if (Int(node, "axis", 0) is not (0 or -1) || inputs.Any(s => s.IsScalar))
                throw Unsupported(node, "Concat of shape values takes vectors along axis 0");
            var parts = inputs.SelectMany(s => s.Elements).ToList();
            _shapes[node.Outputs[0]] = new ShapeValue(parts.ToArray(), IsScalar: false);
        }

        private void Transpose(OnnxNodeProto node)
        {
            Known(node, "perm");
            if (!_constants.TryGetValue(node.Input(0), out var c) || c.Rank != 2 || !c.IsReal)
                throw Unsupported(node, "Transpose of the data has no layer here (only a 2-D constant weight is transposed, on import)");
            long[] perm = Ints(node, "perm") ?? [1, 0];
            if (perm is not [1, 0]) throw Unsupported(node, $"Transpose with perm {Dims(perm)} of a matrix");
            _constants[node.Outputs[0]] = c.Transpose2d(node.Outputs[0]);
        }

        /// <summary>Input <paramref name="i"/> as shape arithmetic: a shape value, or an integer constant of rank ≤ 1.</summary>
        private ShapeValue ShapeInput(OnnxNodeProto node, int i, string onData)
        {
            string name = node.Input(i);
            if (_shapes.TryGetValue(name, out var s)) return s;
            if (_constants.TryGetValue(name, out var c) && c.Integers is not null && c.Rank <= 1)
                return new ShapeValue(c.Integers.Select(Sym.Known).ToArray(), IsScalar: c.Rank == 0);
            if (_data.ContainsKey(name)) throw Unsupported(node, onData);
            throw Unsupported(node, $"input '{name}' is {(_constants.TryGetValue(name, out c) ? c.Describe() : "missing")}, not an integer shape vector");
        }

        // ---- layers ----------------------------------------------------------------------------------------------

        private void Gemm(OnnxNodeProto node)
        {
            Known(node, "alpha", "beta", "transA", "transB", "broadcast");
            var x = _data[ChainInput(node)];
            if (x.Length != 2) throw Unsupported(node, $"Gemm on a rank-{x.Length} input {DataDims(x, _staticBatch)}; Linear takes (N, in)");
            if (Int(node, "transA", 0) != 0) throw Unsupported(node, "transA = 1 (the data transposed) has no layer here");
            long transB = Int(node, "transB", 0);
            if (transB is not (0 or 1)) throw new InvalidDataException($"{_source}: {node.Label}: transB = {transB}, expected 0 or 1.");
            var b = Weight(node, 1, "B", rank: 2);
            var c = node.Input(2).Length > 0 ? Weight(node, 2, "C", rank: -1) : null;
            if (c is not null && _opset < 7 && Int(node, "broadcast", 0) == 0 && c.Rank != 2)
                throw Unsupported(node, $"broadcast = 0 with C {c.Describe()}: at opset {_opset} C must then be the whole (M, N) output");
            float alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
            // W (out, in) as Linear stores it: B itself when transB = 1, else Bᵀ.
            var w = transB == 1 ? b : b.Transpose2d(b.Name);
            AddLinear(node, x, w, c, alpha, beta, "B" + (transB == 1 ? "" : "ᵀ"));
        }

        private void MatMul(OnnxNodeProto node)
        {
            Known(node);
            var x = _data[ChainInput(node)];
            if (x.Length != 2) throw Unsupported(node, $"MatMul on a rank-{x.Length} input {DataDims(x, _staticBatch)}; Linear takes (N, in)");
            var b = Weight(node, 1, "B", rank: 2);
            if (x[1] is int cols && cols != b.Dims[0])
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: {node.Label}: input {DataDims(x, _staticBatch)} does not match B {Dims(b.Dims)}: expected {b.Dims[0]} columns."));
            }
            _pendingMatMul = (node, b);
            _data[node.Outputs[0]] = [x[0], (int)b.Dims[1]];
            _current = node.Outputs[0];
        }

        private void Add(OnnxNodeProto node)
        {
            Known(node, "broadcast", "axis");
            if (node.Inputs.Length == 2 && node.Inputs.All(_data.ContainsKey))
                throw Unsupported(node, $"Add of two computed values ('{node.Input(0)}', '{node.Input(1)}'): a skip connection or a branch joining has no layer here (only a chain of layers maps to a Sequential)");
            if (_pendingMatMul is not { } pending)
                throw Unsupported(node, "Add has a layer here only as the bias right after a MatMul (Linear)");
            string product = pending.Node.Outputs[0];
            string other = node.Input(0) == product ? node.Input(1) : node.Input(0);
            if (!_constants.TryGetValue(other, out var bias) || !bias.IsReal)
                throw Unsupported(node, $"Add of '{other}', which is not a constant: only a bias after a MatMul maps to a layer");
            if (_opset < 7 && node.Attributes.ContainsKey("axis") && Int(node, "axis", 1) is not (1 or -1))
                throw Unsupported(node, $"axis = {Int(node, "axis", 1)}: the bias would not run along the outputs");
            _pendingMatMul = null;
            var x = _data[pending.Node.Input(0)];
            AddLinear(pending.Node, x, pending.B.Transpose2d(pending.B.Name), bias, 1f, 1f, "Bᵀ");
            _data[node.Outputs[0]] = _data[product];
            _current = node.Outputs[0];
        }

        private void FlushMatMul()
        {
            if (_pendingMatMul is not { } pending) return;
            _pendingMatMul = null;
            AddLinear(pending.Node, _data[pending.Node.Input(0)], pending.B.Transpose2d(pending.B.Name), null, 1f, 1f, "Bᵀ", advance: false);
        }

        /// <summary>Linear with W (out, in) = α·<paramref name="w"/> and b = β·C broadcast along the outputs.</summary>
        private void AddLinear(OnnxNodeProto node, int?[] x, OnnxTensorProto w, OnnxTensorProto? c, float alpha, float beta, string wName, bool advance = true)
        {
            int outputs = (int)w.Dims[0], inputs = (int)w.Dims[1];
            if (x[1] is int cols && cols != inputs)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: {node.Label}: input {DataDims(x, _staticBatch)} does not match weight {wName} {Dims(w.Dims)}: expected {inputs} columns."));
            }
            bool perOutput = c is not null && ((c.Count == 1 && c.Rank <= 2) || (c.Count == outputs && (c.Rank == 1 || (c.Rank == 2 && c.Dims[0] == 1))));
            if (c is not null && !perOutput)
                throw Unsupported(node, $"bias C {c.Describe()} is not one value per output ({outputs}): Linear's bias does not vary by row");
            var linear = new Linear<T>(inputs, outputs, bias: c is not null, rng: _rng);
            var weight = linear.Weight.Value.Span;
            for (int i = 0; i < weight.Length; i++) weight[i] = T.CreateTruncating(alpha == 1f ? w.Real(i) : (double)alpha * w.Real(i));
            if (c is not null)
            {
                var b = linear.Bias!.Value.Span;
                for (int o = 0; o < b.Length; o++)
                {
                    double v = c.Real(c.Count == 1 ? 0 : o);
                    b[o] = T.CreateTruncating(beta == 1f ? v : (double)beta * v);
                }
            }
            _layers.Add(linear);
            if (advance) Advance(node, [x[0], outputs]);
        }

        private void Conv(OnnxNodeProto node)
        {
            Known(node, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            var x = _data[ChainInput(node)];
            if (x.Length != 4) throw Unsupported(node, $"Conv over a rank-{x.Length} input {DataDims(x, _staticBatch)}: only 2-D convolution (N, C, H, W) has a layer here");
            var w = Weight(node, 1, "W", rank: 4);
            var b = node.Input(2).Length > 0 ? Weight(node, 2, "B", rank: 1) : null;
            long group = Int(node, "group", 1);
            if (group != 1) throw Unsupported(node, $"group = {group} (grouped or depthwise convolution): Conv2d has group 1");
            int k = (int)w.Dims[2];
            if (w.Dims[2] != w.Dims[3]) throw Unsupported(node, $"the {w.Dims[2]}×{w.Dims[3]} kernel is not square: Conv2d's is k×k");
            if (Ints(node, "kernel_shape") is { } kernel && !kernel.SequenceEqual(w.Dims[2..]))
                throw new InvalidDataException($"{_source}: {node.Label}: kernel_shape {Dims(kernel)} does not match W {Dims(w.Dims)}.");
            var (stride, pad) = Window(node, "Conv2d", "pads every side by the same amount");
            if (x[1] is int channels && channels != w.Dims[1])
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: {node.Label}: input {DataDims(x, _staticBatch)} does not match W {Dims(w.Dims)}: expected {w.Dims[1]} channels."));
            }
            if (b is not null && b.Dims[0] != w.Dims[0])
                throw new InvalidDataException($"{_source}: {node.Label}: B {Dims(b.Dims)} does not match W {Dims(w.Dims)}: one bias per output channel.");
            var conv = new Conv2d<T>((int)w.Dims[1], (int)w.Dims[0], k, stride, pad, bias: b is not null, rng: _rng);
            w.ToTensor<T>().CopyTo(conv.Weight.Value);
            b?.ToTensor<T>().CopyTo(conv.Bias!.Value);
            _layers.Add(conv);
            Advance(node, [x[0], (int)w.Dims[0], Out(node, x[2], k, stride, pad), Out(node, x[3], k, stride, pad)]);
        }

        private void Pool(OnnxNodeProto node, bool max)
        {
            Known(node, "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides", max ? "storage_order" : "count_include_pad");
            string layer = max ? "MaxPool2d" : "AvgPool2d";
            var x = _data[ChainInput(node)];
            if (x.Length != 4) throw Unsupported(node, $"pooling over a rank-{x.Length} input {DataDims(x, _staticBatch)}: only 2-D pooling (N, C, H, W) has a layer here");
            long[] kernel = Ints(node, "kernel_shape") ?? throw new InvalidDataException($"{_source}: {node.Label} has no kernel_shape.");
            if (kernel.Length != 2 || kernel.Any(k => k < 1 || k > int.MaxValue))
                throw new InvalidDataException($"{_source}: {node.Label}: kernel_shape {Dims(kernel)} is not two positive extents for a 2-D input.");
            if (kernel[0] != kernel[1]) throw Unsupported(node, $"the {kernel[0]}×{kernel[1]} window is not square: {layer}'s is k×k");
            if (Int(node, "ceil_mode", 0) != 0) throw Unsupported(node, $"ceil_mode = 1: {layer} rounds the output size down (ceil_mode 0)");
            if (max && Int(node, "storage_order", 0) != 0) throw Unsupported(node, "storage_order = 1 (column-major indices) is not supported");
            if (max && node.Outputs.Length > 1 && _used.Contains(node.Outputs[1])) throw Unsupported(node, "the Indices output is used; MaxPool2d gives none");
            var (stride, pad) = Window(node, layer, "has no padding");
            // NOTE: count_include_pad only matters with padding, and the pools here have none (pads must be 0).
            if (pad != 0) throw Unsupported(node, $"pads [{pad}, {pad}, {pad}, {pad}]: {layer} has no padding");
            int k = (int)kernel[0];
            _layers.Add(max ? new MaxPool2d<T>(k, stride) : new AvgPool2d<T>(k, stride));
            Advance(node, [x[0], x[1], Out(node, x[2], k, stride, 0), Out(node, x[3], k, stride, 0)]);
        }

        /// <summary>strides, pads, dilations and auto_pad of a 2-D window: one stride, one symmetric pad, dilations 1.</summary>
        private (int Stride, int Pad) Window(OnnxNodeProto node, string layer, string padding)
        {
            string autoPad = String(node, "auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or "VALID"))
                throw Unsupported(node, $"auto_pad = {autoPad}: the padding would depend on the input size; explicit pads (auto_pad NOTSET) are supported");
            if (Ints(node, "dilations") is { } dilations && dilations.Any(d => d != 1))
                throw Unsupported(node, $"dilations {Dims(dilations)}: {layer} has no dilation (all must be 1)");
            long[] strides = Ints(node, "strides") ?? [1, 1];
            if (strides.Length != 2 || strides.Any(s => s < 1 || s > int.MaxValue))
                throw new InvalidDataException($"{_source}: {node.Label}: strides {Dims(strides)} are not two positive strides.");
            if (strides[0] != strides[1]) throw Unsupported(node, $"strides {Dims(strides)} differ: {layer} has one stride for both axes");
            long[] pads = Ints(node, "pads") ?? [0, 0, 0, 0];
            if (pads.Length != 4 || pads.Any(p => p < 0 || p > int.MaxValue))
                throw new InvalidDataException($"{_source}: {node.Label}: pads {Dims(pads)} are not four non-negative pads.");
            if (autoPad == "VALID" && pads.Any(p => p != 0)) throw new InvalidDataException($"{_source}: {node.Label}: auto_pad VALID with pads {Dims(pads)}.");
            if (pads.Distinct().Count() != 1) throw Unsupported(node, $"pads {Dims(pads)} are not the same on every side: {layer} {padding}");
            return ((int)strides[0], (int)pads[0]);
        }

        private int? Out(OnnxNodeProto node, int? size, int k, int stride, int pad)
        {
            if (size is not int n) return null;
            int o = TensorOps.ConvOutputSize(n, k, stride, pad);
            if (o < 1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: {node.Label}: an extent of {n} padded by {pad} is smaller than the {k}×{k} window."));
            }
            return o;
        }

        private void BatchNormalization(OnnxNodeProto node)
        {
            Known(node, "epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs");
            var x = _data[ChainInput(node)];
            if (x.Length is < 2 or > 4) throw Unsupported(node, $"BatchNormalization of a rank-{x.Length} input {DataDims(x, _staticBatch)}: BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W)");
            if (Int(node, "training_mode", 0) != 0)
                throw Unsupported(node, "training_mode = 1: the statistics of the batch would be used; only the inference form maps to a layer");
            if (_opset < 7 && Int(node, "is_test", 0) == 0)
                throw Unsupported(node, $"is_test = 0 (training mode at opset {_opset}): only the inference form maps to a layer");
            if (_opset < 9 && Int(node, "spatial", 1) != 1)
                throw Unsupported(node, "spatial = 0 (statistics per element, not per channel) is not supported");
            for (int i = 1; i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length > 0 && _used.Contains(node.Outputs[i]))
                    throw Unsupported(node, $"output {i} ('{node.Outputs[i]}', a training statistic) is used; only the normalized output maps to a layer");
            }
            var scale = Weight(node, 1, "scale", rank: 1);
            int c = (int)scale.Dims[0];
            if (x[1] is int channels && channels != c)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{_source}: {node.Label}: input {DataDims(x, _staticBatch)} does not match scale {Dims(scale.Dims)}: expected {c} channels."));
            }
            var bias = Weight(node, 2, "B", rank: 1);
            var mean = Weight(node, 3, "mean", rank: 1);
            var variance = Weight(node, 4, "var", rank: 1);
            foreach (var (t, name) in new[] { (bias, "B"), (mean, "mean"), (variance, "var") })
            {
                if (t.Dims[0] != c) throw new InvalidDataException($"{_source}: {node.Label}: {name} {Dims(t.Dims)} does not match scale {Dims(scale.Dims)}.");
            }
            double eps = ShortestDecimal(Float(node, "epsilon", 1e-5f));
            if (!(eps > 0)) throw Unsupported(node, $"epsilon = {eps}: BatchNorm needs ε > 0");
            // ONNX's momentum weighs the running statistic (running ← m·running + (1 − m)·batch), PyTorch's and ours the batch.
            decimal m = (decimal)ShortestDecimal(Float(node, "momentum", 0.9f));
            double momentum = (double)(1m - m);
            if (!(momentum >= 0 && momentum <= 1)) throw Unsupported(node, $"momentum = {m}: outside [0, 1]");
            BatchNorm<T> norm = x.Length == 4 ? new BatchNorm2d<T>(c, eps, momentum) : new BatchNorm1d<T>(c, eps, momentum);
            scale.ToTensor<T>().CopyTo(norm.Weight.Value);
            bias.ToTensor<T>().CopyTo(norm.Bias.Value);
            mean.ToTensor<T>().CopyTo(norm.RunningMean);
            variance.ToTensor<T>().CopyTo(norm.RunningVar);
            _layers.Add(norm);
            Advance(node, x);
        }

        private void Activation(OnnxNodeProto node, Module<T> layer)
        {
            if (layer is not LeakyReLU<T>) Known(node);
            var x = _data[ChainInput(node)];
            _layers.Add(layer);
            Advance(node, x);
        }

        private void Softmax(OnnxNodeProto node)
        {
            Known(node, "axis");
            var x = _data[ChainInput(node)];
            long axis = Int(node, "axis", _opset < 13 ? 1 : -1);
            long normalized = axis < 0 ? axis + x.Length : axis;
            if (normalized < 0 || normalized >= x.Length)
                throw new InvalidDataException($"{_source}: {node.Label}: axis {axis} is outside a rank-{x.Length} input.");
            if (normalized != x.Length - 1)
            {
                throw Unsupported(node, _opset < 13
                    ? $"axis = {axis} of a rank-{x.Length} input: at opset {_opset} Softmax normalizes over axes {axis}… together; ours over the last axis only"
                    : $"axis = {axis} of a rank-{x.Length} input: ours normalizes over the last axis");
            }
            _layers.Add(new Softmax<T>());
            Advance(node, x);
        }

        private void Flatten(OnnxNodeProto node)
        {
            Known(node, "axis");
            var x = _data[ChainInput(node)];
            long axis = Int(node, "axis", 1);
            long normalized = axis < 0 ? axis + x.Length : axis;
            if (normalized != 1 || x.Length < 2)
                throw Unsupported(node, $"axis = {axis} of a rank-{x.Length} input: Flatten keeps the first axis (axis 1) only");
            AddFlatten(node, x);
        }

        private void Reshape(OnnxNodeProto node)
        {
            Known(node, "allowzero", "shape");
            var x = _data[ChainInput(node)];
            if (node.Attributes.ContainsKey("shape")) throw Unsupported(node, "the shape attribute of Reshape-1 (opset < 5)");
            var target = ShapeInput(node, 1, "Reshape's shape comes from the data");
            bool allowZero = Int(node, "allowzero", 0) != 0;
            // Resolve 0 (copy the input's extent) and compare with (N, C·H·W).
            var t = target.Elements.Select((s, i) => s.Kind == SymKind.Known && s.Value == 0 && !allowZero && i < x.Length
                ? (i == 0 ? new Sym(0, SymKind.Batch) : x[i] is int e ? Sym.Known(e) : new Sym(0, SymKind.Unknown)) : s).ToArray();
            long? rest = x.Skip(1).All(d => d is not null) ? x.Skip(1).Aggregate(1L, (a, d) => a * d!.Value) : null;
            bool firstIsBatch = t.Length == 2 && (t[0].Kind == SymKind.Batch
                || t[0].Kind == SymKind.Known && (t[0].Value == -1 && t[1].Kind == SymKind.Known && t[1].Value == rest
                    || _staticBatch && t[0].Value == x[0]));
            bool secondIsRest = t.Length == 2 && t[1].Kind == SymKind.Known && (t[1].Value == -1 && t[0].Value != -1 || t[1].Value == rest);
            if (x.Length < 2 || !firstIsBatch || !secondIsRest)
                throw Unsupported(node, $"Reshape of {DataDims(x, _staticBatch)} to [{string.Join(", ", target.Elements)}]: only flattening to (N, −1) has a layer (Flatten)");
            AddFlatten(node, x);
        }

        private void AddFlatten(OnnxNodeProto node, int?[] x)
        {
            long? rest = x.Skip(1).All(d => d is not null) ? x.Skip(1).Aggregate(1L, (a, d) => Math.Min(a * d!.Value, 1L << 40)) : null;
            if (rest > Array.MaxLength)
                throw new InvalidDataException($"{_source}: {node.Label}: flattening {DataDims(x, _staticBatch)} gives rows longer than an array can hold.");
            _layers.Add(new Flatten<T>());
            Advance(node, [x[0], (int?)rest]);
        }

        private void Dropout(OnnxNodeProto node)
        {
            Known(node, "ratio", "is_test", "seed");
            var x = _data[ChainInput(node)];
            if (_opset < 7 && Int(node, "is_test", 0) == 0)
                throw Unsupported(node, $"is_test = 0 (training mode at opset {_opset}): the output would be random");
            double ratio = _opset < 12 ? ShortestDecimal(Float(node, "ratio", 0.5f))
                : node.Input(1).Length > 0 ? ConstantScalar(node, 1, "ratio") : 0.5;
            if (node.Input(2).Length > 0 && ConstantScalar(node, 2, "training_mode") != 0)
                throw Unsupported(node, "training_mode = true: the output would be random; only inference Dropout (the identity) maps to a layer");
            if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0 && _used.Contains(node.Outputs[1]))
                throw Unsupported(node, "the mask output is used; Dropout gives none");
            if (!(ratio >= 0 && ratio < 1)) throw new InvalidDataException($"{_source}: {node.Label}: ratio {ratio} is outside [0, 1).");
            // The identity in inference; kept as a layer (when p > 0) so that fine-tuning drops as the original did.
            if (ratio > 0) _layers.Add(new Dropout<T>(ratio));
            Advance(node, x);
        }

        private void Pad(OnnxNodeProto node)
        {
            Known(node, "mode", "pads", "value");
            var x = _data[ChainInput(node)];
            long[] pads = _opset < 11 ? Ints(node, "pads") ?? throw new InvalidDataException($"{_source}: {node.Label} has no pads attribute.")
                : ConstantInts(node, 1, "pads");
            if (pads.Any(p => p != 0))
                throw Unsupported(node, $"pads {Dims(pads)}: there is no padding layer here (Conv2d pads its own input; the pools have no padding)");
            Advance(node, x);   // padding by zero is the identity, whatever the mode
        }

        // ---- helpers ---------------------------------------------------------------------------------------------

        /// <summary>The node's first input, which must be the chain's latest value.</summary>
        private string ChainInput(OnnxNodeProto node)
        {
            string x = node.Input(0);
            if (x == _current) return x;
            string what = _constants.ContainsKey(x) ? "a constant" : _shapes.ContainsKey(x) ? "a shape computation"
                : x.Length == 0 ? "nothing" : "an earlier value";
            throw Unsupported(node, $"its input '{x}' is {what}, not the output of the layer before it ('{_current}'): only a chain of layers (no branches, skip connections or second inputs) maps to a Sequential");
        }

        /// <summary>Makes the node's first output the chain's latest value, with <paramref name="dims"/>.</summary>
        private void Advance(OnnxNodeProto node, int?[] dims)
        {
            _data[node.Outputs[0]] = dims;
            _current = node.Outputs[0];
        }

        /// <summary>Input <paramref name="i"/> as a float or double constant of rank <paramref name="rank"/> (−1: any).</summary>
        private OnnxTensorProto Weight(OnnxNodeProto node, int i, string role, int rank)
        {
            string name = node.Input(i);
            if (!_constants.TryGetValue(name, out var t))
            {
                throw Unsupported(node, name.Length == 0 ? $"input {role} is missing"
                    : $"input {role} ('{name}') is computed in the graph, not a constant (an initializer); only constant weights map to a layer");
            }
            if (!t.IsReal) throw new InvalidDataException($"{_source}: {node.Label}: {role} ('{name}') is {t.Describe()}, not float32 or float64.");
            if (rank >= 0 && t.Rank != rank)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{_source}: {node.Label}: {role} ('{name}') is {t.Describe()}, expected rank {rank}."));
            if (t.Dims.Any(d => d == 0 || d > int.MaxValue)) throw new InvalidDataException($"{_source}: {node.Label}: {role} ('{name}') is {t.Describe()}, which is empty.");
            return t;
        }

        private long[] ConstantInts(OnnxNodeProto node, int i, string role)
        {
            string name = node.Input(i);
            if (!_constants.TryGetValue(name, out var t) || t.Integers is null || t.Rank > 1)
                throw Unsupported(node, $"input {role} ('{name}') is not a constant integer vector");
            return t.Integers;
        }

        private double ConstantScalar(OnnxNodeProto node, int i, string role)
        {
            string name = node.Input(i);
            if (!_constants.TryGetValue(name, out var t) || t.Count != 1)
                throw Unsupported(node, $"input {role} ('{name}') is not a constant scalar");
            return t.Floats is not null ? ShortestDecimal(t.Floats[0]) : t.Real(0);
        }

        /// <summary>Refuses any attribute not in <paramref name="names"/>: one this importer does not know could change the meaning.</summary>
        private void Known(OnnxNodeProto node, params string[] names)
        {
            foreach (var a in node.Attributes.Values)
            {
                if (!names.Contains(a.Name))
                    throw Unsupported(node, $"attribute '{a.Name}' = {a.DescribeValue()} is not one this importer knows for {node.OpType}");
            }
        }

        private long Int(OnnxNodeProto node, string name, long fallback) =>
            Attribute(node, name, OnnxProto.AttributeType.Int)?.Int ?? fallback;

        private float Float(OnnxNodeProto node, string name, float fallback) =>
            Attribute(node, name, OnnxProto.AttributeType.Float)?.Float ?? fallback;

        private string String(OnnxNodeProto node, string name, string fallback) =>
            Attribute(node, name, OnnxProto.AttributeType.String)?.Text ?? fallback;

        private long[]? Ints(OnnxNodeProto node, string name) => Attribute(node, name, OnnxProto.AttributeType.Ints)?.Ints;

        private OnnxAttributeProto? Attribute(OnnxNodeProto node, string name, OnnxProto.AttributeType type)
        {
            if (!node.Attributes.TryGetValue(name, out var a)) return null;
            if (a.Type != type) throw new InvalidDataException($"{_source}: {node.Label}: attribute '{name}' is {a.Type}, expected {type}.");
            return a;
        }

        private NotSupportedException Unsupported(OnnxNodeProto node, string reason) => new($"{_source}: {node.Label}: {reason}.");
    }
}
