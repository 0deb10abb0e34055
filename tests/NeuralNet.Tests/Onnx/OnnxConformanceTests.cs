using System.Globalization;
using System.Numerics;
using System.Text;
using NeuralNet.Onnx;
using NeuralNet.Tensors;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Onnx;

/// <summary>
/// ONNX's own backend test cases as the importer's oracle: Debian's libonnx-testdata ships them under
/// /usr/share/libonnx-testdata/data — node/ (one operator per case), pytorch-converted/ and pytorch-operator/ (small
/// PyTorch modules) and simple/ — each a folder with model.onnx and test_data_set_*/input_*.pb, output_*.pb (TensorProtos).
/// Every case using an operator the importer knows is imported and run; its output must match ONNX's expected output
/// to |Δ| ≤ 1e-5·max(1, |expected|) (ONNX's own runner allows rtol 1e-3, atol 1e-7). A case the importer refuses is
/// reported as skipped with the refusal's reason, and a per-operator table is printed.
/// </summary>
/// <remarks>
/// Many node cases feed weights as graph inputs (Conv's W, BatchNormalization's statistics, Gemm's B and C). The case's
/// first input is the data; the others are bound to the case's input tensors as constants (initializers) before the
/// import, which is what a model built here would hold as parameters. Cases run in float32 (float64 when the graph's
/// input is). Without the package (CI installs it with apt-get; where that fails) the test says so and passes.
/// </remarks>
public sealed class OnnxConformanceTests(ITestOutputHelper output)
{
    /// <summary>Where Debian's libonnx-testdata puts the cases.</summary>
    public const string DataRoot = "/usr/share/libonnx-testdata/data";

    /// <summary>|Δ| ≤ Tolerance·max(1, |expected|) per element.</summary>
    public const double Tolerance = 1e-5;

    private static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    /// <summary>The operators of the table: those the importer reads, in the order of its documentation.</summary>
    private static readonly string[] Operators =
    [
        "Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
        "Softmax", "Flatten", "Reshape", "Dropout", "Identity", "Pad", "Shape", "Gather", "Unsqueeze", "Concat", "Constant", "Transpose",
    ];

    /// <summary>Operators that only feed others (constants, shape arithmetic): a case is filed under its first other operator.</summary>
    private static readonly string[] Helpers = ["Constant", "Shape", "Gather", "Unsqueeze", "Concat", "Transpose", "Identity", "Pad"];

    public enum Outcome
    {
        Passed,
        Skipped,
        Failed,
    }

    public sealed record CaseResult(string Suite, string Name, string Operator, Outcome Outcome, string Detail, double WorstRelative = 0);

    [Fact]
    public void Every_case_of_a_supported_operator_passes_or_is_skipped_with_the_reason()
    {
        if (!Directory.Exists(DataRoot))
        {
            output.WriteLine($"libonnx-testdata is not installed ({DataRoot} does not exist): the ONNX conformance cases were not run. " +
                "On Debian: apt-get install libonnx-testdata.");
            return;
        }
        var results = new List<CaseResult>();
        int outOfScope = 0;
        foreach (string suite in Suites)
        {
            string folder = Path.Combine(DataRoot, suite);
            if (!Directory.Exists(folder)) continue;
            foreach (string dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
            {
                var result = RunCase(suite, dir);
                if (result is null) outOfScope++;
                else results.Add(result);
            }
        }
        output.WriteLine(Table(results, outOfScope));
        output.WriteLine("");
        foreach (var r in results.OrderBy(r => Array.IndexOf(Operators, r.Operator)).ThenBy(r => r.Suite, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Operator,-18} {r.Outcome,-7} {r.Suite}/{r.Name}{(r.Outcome == Outcome.Passed ? $" (max relative |Δ| {r.WorstRelative:E1})" : "")}: {r.Detail}"));
        }

        var failed = results.Where(r => r.Outcome == Outcome.Failed).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} conformance case(s) failed:\n" + string.Join("\n", failed.Select(f => $"{f.Suite}/{f.Name}: {f.Detail}")));
        // Every operator that maps to a layer passes at least one case: a regression that refuses everything cannot pass as "skipped".
        foreach (string op in new[] { "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "Identity" })
            Assert.True(results.Any(r => r.Operator == op && r.Outcome == Outcome.Passed), $"no {op} case passed");
    }

    /// <summary>The comparison fails a case whose output is off by more than the tolerance: a wrong layer cannot pass.</summary>
    [Fact]
    public void A_wrong_output_fails_the_comparison()
    {
        float[] expected = [1f, -2f, 0.5f, 300f];
        Assert.Null(Compare(expected, [1f, -2f, 0.5f, 300.002f], out _));
        Assert.NotNull(Compare(expected, [1f, -2f, 0.50002f, 300f], out _));
        Assert.NotNull(Compare(expected, [1f, -2f, 0.5f, 300.01f], out _));
        Assert.NotNull(Compare(expected, [1f, -2f, float.NaN, 300f], out _));
    }

    /// <summary>
    /// Imports and runs one case; null when none of its operators is one the importer reads. Refusals are skips;
    /// a wrong output, a shape that differs, or an exception other than a refusal is a failure.
    /// </summary>
    private static CaseResult? RunCase(string suite, string dir)
    {
        string name = Path.GetFileName(dir);
        string path = Path.Combine(dir, "model.onnx");
        if (!File.Exists(path)) return null;
        OnnxModelProto model;
        try
        {
            model = OnnxModelProto.Parse(File.ReadAllBytes(path), $"{suite}/{name}/model.onnx");
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            return new CaseResult(suite, name, "(unread)", Outcome.Failed, "the file does not parse: " + e.Message);
        }
        // A case of operator X: every node is an operator the importer reads, X the first that is not a helper. Cases
        // mixing in others (test_Softmin is Neg then Softmax, the *_expanded cases decompose functions) test those others.
        var ops = model.Graph.Nodes.Select(n => n.OpType).ToList();
        if (ops.Count == 0 || !ops.All(Operators.Contains)) return null;
        string op = ops.FirstOrDefault(o => !Helpers.Contains(o)) ?? ops[0];
        CaseResult Result(Outcome outcome, string detail, double worst = 0) => new(suite, name, op, outcome, detail, worst);

        var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        if (sets.Count == 0) return Result(Outcome.Skipped, "the case has no test data set");
        var data = model.Graph.Inputs.Where(i => model.Graph.Initializers.All(t => t.Name != i.Name)).ToList();
        double worst = 0;
        foreach (string set in sets)
        {
            // input_k.pb is the k-th graph input no initializer fills; the first is the data, the rest become constants.
            var inputs = new List<OnnxTensorProto>();
            try
            {
                for (int k = 0; File.Exists(Path.Combine(set, $"input_{k}.pb")); k++) inputs.Add(ReadTensor(Path.Combine(set, $"input_{k}.pb")));
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                // Not a TensorProto (an optional or a sequence): the importer refuses such an input, say why.
                var refusal = Record.Exception(() => OnnxImport.Build<float>(model, $"{suite}/{name}"));
                return Result(Outcome.Skipped, refusal is NotSupportedException ? Reason(refusal.Message) : "test data: " + Reason(e.Message));
            }
            if (inputs.Count != data.Count || inputs.Count == 0)
            {
                var refusal = Record.Exception(() => OnnxImport.Build<float>(model, $"{suite}/{name}"));
                return Result(Outcome.Skipped, refusal is NotSupportedException ? Reason(refusal.Message) : $"the graph has {data.Count} data inputs, the test data {inputs.Count}");
            }
            var bound = new OnnxModelProto { IrVersion = model.IrVersion, ProducerName = model.ProducerName, OpsetImports = model.OpsetImports, Graph = new OnnxGraphProto { Name = model.Graph.Name } };
            bound.Graph.Nodes.AddRange(model.Graph.Nodes);
            bound.Graph.Initializers.AddRange(model.Graph.Initializers);
            for (int k = 1; k < inputs.Count; k++) bound.Graph.Initializers.Add(inputs[k].Renamed(data[k].Name));
            bound.Graph.Inputs.AddRange(model.Graph.Inputs);
            bound.Graph.Outputs.AddRange(model.Graph.Outputs);
            bound.Graph.SparseInitializers = model.Graph.SparseInitializers;

            string? problem;
            double setWorst;
            try
            {
                problem = data[0].ElementType == OnnxProto.DataType.Double
                    ? Run<double>(bound, $"{suite}/{name}", inputs[0], set, out setWorst)
                    : Run<float>(bound, $"{suite}/{name}", inputs[0], set, out setWorst);
            }
            catch (NotSupportedException e)
            {
                return Result(Outcome.Skipped, Reason(e.Message));
            }
            catch (Exception e)
            {
                return Result(Outcome.Failed, $"{e.GetType().Name}: {e.Message}");
            }
            if (problem is not null) return Result(Outcome.Failed, $"{Path.GetFileName(set)}: {problem}");
            worst = Math.Max(worst, setWorst);
        }
        return Result(Outcome.Passed, $"{sets.Count} data set{(sets.Count == 1 ? "" : "s")}", worst);
    }

    /// <summary>Imports the bound model, runs input_0, compares with output_0; null when they agree, else what differs.</summary>
    private static string? Run<T>(OnnxModelProto model, string source, OnnxTensorProto input, string set, out double worst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        worst = 0;
        var imported = OnnxImport.Build<T>(model, source);
        if (!input.IsReal) throw new NotSupportedException($"{source}: input_0 is {input.Describe()}");
        var x = input.ToTensor<T>();
        var y = imported.Model.Forward(x);
        if (File.Exists(Path.Combine(set, "output_1.pb"))) return "the case expects more than one output";
        var expected = ReadTensor(Path.Combine(set, "output_0.pb"));
        int[] expectedShape = expected.Dims.Select(d => (int)d).ToArray();
        if (!y.Shape.ToArray().SequenceEqual(expectedShape))
            return $"output shape {y.Shape}, expected {OnnxImport.Dims(expected.Dims)}";
        var e = new double[expected.Count];
        for (int i = 0; i < e.Length; i++) e[i] = expected.Real(i);
        var a = y.ToArray().Select(v => double.CreateChecked(v)).ToArray();
        return Compare(e, a, out worst);
    }

    private static string? Compare(float[] expected, float[] actual, out double worst) =>
        Compare(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), out worst);

    private static string? Compare(double[] expected, double[] actual, out double worst)
    {
        worst = 0;
        string? first = null;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double delta = Math.Abs(expected[i] - actual[i]), relative = delta / Math.Max(1, Math.Abs(expected[i]));
            bool nanMatch = double.IsNaN(expected[i]) && double.IsNaN(actual[i]);
            if (nanMatch) continue;
            if (!(relative <= Tolerance))
            {
                bad++;
                first ??= string.Create(CultureInfo.InvariantCulture, $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
            }
            if (!double.IsNaN(relative)) worst = Math.Max(worst, relative);
        }
        return bad == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{bad} of {expected.Length} elements differ by more than {Tolerance:E0}·max(1, |expected|); first {first}");
    }

    private static OnnxTensorProto ReadTensor(string path) =>
        OnnxTensorProto.Read(new ProtoReader(File.ReadAllBytes(path), path, "TensorProto"));

    /// <summary>A refusal's message without the file and node prefix: "dilations [2, 2]: MaxPool2d has no dilation (all must be 1)".</summary>
    private static string Reason(string message)
    {
        int node = message.IndexOf("): ", StringComparison.Ordinal);
        if (node >= 0 && message.AsSpan(0, node).Contains("node ", StringComparison.Ordinal)) return message[(node + 3)..].TrimEnd('.');
        int colon = message.IndexOf(": ", StringComparison.Ordinal);
        return (colon >= 0 ? message[(colon + 2)..] : message).TrimEnd('.');
    }

    /// <summary>The short form of a reason for the table: up to its first ':' or ';', numbers folded ("pads [#, #, #, #]"), names too ('…').</summary>
    private static string Short(string reason)
    {
        int cut = reason.IndexOfAny([':', ';']);
        string s = cut > 0 ? reason[..cut] : reason;
        s = System.Text.RegularExpressions.Regex.Replace(s, "'[^']*'", "'…'");
        return System.Text.RegularExpressions.Regex.Replace(s, @"(?<![A-Za-z])-?\d+(\.\d+)?", "#");
    }

    /// <summary>The per-operator table (Markdown): cases, passed, skipped, failed, and the skips' reasons with counts.</summary>
    internal static string Table(IReadOnlyList<CaseResult> results, int outOfScope)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"ONNX conformance ({DataRoot}): {results.Count} cases use only operators the importer reads ({results.Count(r => r.Outcome == Outcome.Passed)} passed, " +
            $"{results.Count(r => r.Outcome == Outcome.Skipped)} skipped, {results.Count(r => r.Outcome == Outcome.Failed)} failed); {outOfScope} other cases use operators it does not read."));
        sb.AppendLine();
        sb.AppendLine("| operator | passed | skipped | failed | why skipped (cases) |");
        sb.AppendLine("|---|---:|---:|---:|---|");
        foreach (string op in Operators)
        {
            var rows = results.Where(r => r.Operator == op).ToList();
            if (rows.Count == 0) continue;
            string reasons = string.Join("; ", rows.Where(r => r.Outcome == Outcome.Skipped).GroupBy(r => Short(r.Detail))
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Count() == 1 ? g.Key : string.Create(CultureInfo.InvariantCulture, $"{g.Key} ({g.Count()})")));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {op} | {rows.Count(r => r.Outcome == Outcome.Passed)} | {rows.Count(r => r.Outcome == Outcome.Skipped)} | {rows.Count(r => r.Outcome == Outcome.Failed)} | {reasons.Replace("|", "\\|", StringComparison.Ordinal)} |"));
        }
        return sb.ToString();
    }
}
