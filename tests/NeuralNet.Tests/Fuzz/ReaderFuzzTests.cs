using System.Globalization;
using System.IO.Compression;
using System.Text;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Cli;
using NeuralNet.Cli.Tables;
using NeuralNet.Data;
using NeuralNet.Layers;
using NeuralNet.Modules;
using NeuralNet.Tensors;
using NeuralNet.Tests.Data;
using Xunit.Abstractions;
using OnnxApi = NeuralNet.Onnx.Onnx;

namespace NeuralNet.Tests.Fuzz;

/// <summary>
/// Every file reader against seeded mutations of small valid files it reads (see <see cref="Fuzzer"/>): a fixed sample
/// per reader here; NN_FUZZ_CASES=100000 runs that many per reader (and NN_FUZZ_SEED another seed).
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultCases = 10000;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Targets => ["idx-images", "idx-labels", "npy", "npz", "safetensors", "architecture", "onnx", "checkpoint", "csv"];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_files_are_read_or_refused_with_an_error_naming_the_file(string target)
    {
        var (cases, seed) = Fuzzer.Settings(DefaultCases);
        FuzzTarget t = Target(target);
        foreach (byte[] valid in t.Seeds) Assert.True(Fuzzer.Check(t, valid, $"seed-{target}", out string? why) == true, $"a seed of {target} does not read: {why}");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        FuzzReport report = Fuzzer.Run(t, cases, seed);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target}: {report.Cases} cases (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {report.Loaded} read, {report.Refused} refused, {report.Defects.Count} defects"));
        Assert.True(report.Defects.Count == 0, string.Join("\n", report.Defects));
        Assert.True(report.Refused > 0, "no case was refused: the mutations do not reach the reader");
    }

    [Fact]
    public void A_deliberately_careless_reader_is_caught()
    {
        // The harness itself must be able to fail: an IndexOutOfRange, a silent huge allocation and an unnamed error.
        byte[] seed = new byte[64];
        var careless = new FuzzTarget("careless", [seed], (b, _) => GC.KeepAlive(b[b.Length + 1]), _ => [], [], n => n);
        Assert.Null(Fuzzer.Check(careless, seed, "x", out string? why));
        Assert.Contains("IndexOutOfRange", why);
        var greedy = new FuzzTarget("greedy", [seed], (b, _) => GC.KeepAlive(new byte[64 << 20]), _ => [], [], n => n);
        Assert.Null(Fuzzer.Check(greedy, seed, "x", out why));
        Assert.Contains("allocated", why);
        var vague = new FuzzTarget("vague", [seed], (b, _) => throw new InvalidDataException("bad file"), _ => [], [], n => n);
        Assert.Null(Fuzzer.Check(vague, seed, "x", out why));
        Assert.Contains("does not name", why);
    }

    private FuzzTarget Target(string name) => name switch
    {
        "idx-images" => Idx(name, images: true),
        "idx-labels" => Idx(name, images: false),
        "npy" => Npy(),
        "npz" => Npz(),
        "safetensors" => Safetensors(),
        "architecture" => Architecture(),
        "onnx" => Onnx(),
        "checkpoint" => CheckpointFiles(),
        "csv" => Csv(),
        _ => throw new ArgumentException(name),
    };

    private static Sequential<float> SmallMlp() =>
        new(new Linear<float>(4, 3, rng: new Rng(1)), new ReLU<float>(), new Linear<float>(3, 2, rng: new Rng(2)));

    private static Sequential<float> SmallCnn() =>
        new(new Conv2d<float>(1, 2, 3, rng: new Rng(3)), new ReLU<float>(), new MaxPool2d<float>(2), new Flatten<float>(), new Linear<float>(8, 2, rng: new Rng(4)));

    private FuzzTarget Idx(string name, bool images)
    {
        var seeds = new List<byte[]>();
        foreach (bool gzip in new[] { false, true })
        {
            string path = _dir[$"seed-{name}-{gzip}"];
            if (images) NeuralNet.Data.Idx.WriteImages(path, Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)i).ToArray(), 3, 4, 5, gzip);
            else NeuralNet.Data.Idx.WriteLabels(path, [1, 2, 3, 4, 5], gzip);
            seeds.Add(File.ReadAllBytes(path));
        }
        return new FuzzTarget(name, seeds, (bytes, file) =>
        {
            string path = _dir[file];
            File.WriteAllBytes(path, bytes);
            try
            {
                if (images) NeuralNet.Data.Idx.ReadImages(path);
                else NeuralNet.Data.Idx.ReadLabels(path);
            }
            finally
            {
                File.Delete(path);
            }
        },
        // The raw header: magic and the big-endian int32 dimensions; a gzip file's header bytes are its own.
        b => b.Length > 2 && b[0] == 0x1f ? [new FuzzField(4, 4, false)] : images
            ? [new(0, 4, true), new(4, 4, true), new(8, 4, true), new(12, 4, true)]
            : [new(0, 4, true), new(4, 4, true)],
        [], n => n);
    }

    private static FuzzTarget Npy()
    {
        var seeds = new List<byte[]>
        {
            NeuralNet.Checkpoints.Npy.ToBytes(Tensor<float>.FromArray([1, 2, 3, 4, 5, 6], 2, 3)),
            NeuralNet.Checkpoints.Npy.ToBytes(Tensor<double>.FromArray([1.5, -2], 2)),
        };
        using (var ms = new MemoryStream())
        {
            NeuralNet.Checkpoints.Npy.WriteInt32(ms, [7, 8, 9]);
            seeds.Add(ms.ToArray());
        }
        return new FuzzTarget("npy", seeds, (bytes, file) =>
        {
            NeuralNet.Checkpoints.Npy.FromBytes<float>(bytes, file);
            if (bytes.AsSpan().IndexOf("'<i"u8) >= 0) NeuralNet.Checkpoints.Npy.ReadInt32(new MemoryStream(bytes), file);
        },
        _ => [new(6, 1, false), new(7, 1, false), new(8, 2, false), new(8, 4, false)],
        [("<f4", ["<f8", "<f2", "<i8", ">f4", "|b1", "<c8", "|O", "<U3", "<f16", "<V4", "", "<i0"]),
         ("<i4", ["<u8", "<i1", "<f4", ">i4", "|u1"]),
         ("'shape'", ["'shape''shape'", "'shap'", "'descr'"]),
         ("False", ["True", "None", "0"])],
        n => n);
    }

    private FuzzTarget Npz()
    {
        string plain = _dir["seed.npz"], compressed = _dir["seed-compressed.npz"];
        Checkpoint.Save(plain, SmallMlp(), metadata: new Dictionary<string, string> { ["dataset"] = "mnist" }, inputShape: [4]);
        NeuralNet.Checkpoints.Npz.Save(compressed, w =>
        {
            w.Add("w", Tensor<float>.FromArray([1, 2, 3, 4], 2, 2));
            w.AddInt32("labels", [3, 1]);
            w.AddText("note.txt", "hello");
        }, compressed: true);
        return new FuzzTarget("npz", [File.ReadAllBytes(plain), File.ReadAllBytes(compressed)], (bytes, file) =>
        {
            using var npz = new NpzReader(new MemoryStream(bytes), file);
            foreach (string entry in npz.EntryNames) npz.GetBytes(entry);
            foreach (string array in npz.Names)
            {
                if (array == "labels") npz.GetInt32(array);
                else npz.Get<float>(array);
            }
            npz.GetText("architecture.json");
        }, ZipFields, [("0.weight.npy", ["0.bias.npy\0\0", "2.weight.npy", "0.weight.npz"]), ("<f4", ["<f8", "|O", "<c8"])], n => n);
    }

    // Every size, count, offset and CRC field of the zip's local headers, central directory and end record.
    private static FuzzField[] ZipFields(byte[] b)
    {
        var fields = new List<FuzzField>();
        for (int i = 0; i + 4 <= b.Length; i++)
        {
            if (b[i] != 'P' || b[i + 1] != 'K') continue;
            int[] offsets = (b[i + 2], b[i + 3]) switch
            {
                (3, 4) => [14, 18, 22, 26, 28],
                (1, 2) => [16, 20, 24, 28, 30, 32, 42],
                (5, 6) => [8, 10, 12, 16, 20],
                _ => [],
            };
            foreach (int o in offsets) fields.Add(new FuzzField(i + o, o is 26 or 28 or 30 or 32 || (b[i + 2] == 5 && o is 8 or 10 or 20) ? 2 : 4, false));
        }
        return [.. fields];
    }

    private static FuzzTarget Safetensors()
    {
        using var ms = new MemoryStream();
        NeuralNet.Checkpoints.Safetensors.Write(ms, [("a.weight", Tensor<float>.FromArray([1, 2, 3, 4, 5, 6], 2, 3)), ("b", Tensor<float>.FromArray([7], 1))],
            new Dictionary<string, string> { ["format"] = "pt" }, checksum: true);
        using var plain = new MemoryStream();
        NeuralNet.Checkpoints.Safetensors.Write(plain, [("x", Tensor<double>.FromArray([1.5, 2.5], 2))]);
        return new FuzzTarget("safetensors", [ms.ToArray(), plain.ToArray()], (bytes, file) =>
        {
            using var st = new SafetensorsReader(new MemoryStream(bytes), file);
            foreach (string t in st.Names) st.Get<float>(t);
        },
        _ => [new(0, 8, false), new(0, 4, false), new(4, 4, false)],
        [("F32", ["F64", "BF16", "F16", "I64", "U8", "BOOL", "F8_E4M3", "F4", "C64", "X", ""]),
         ("F64", ["F32", "I8", "U64"]),
         ("\"b\"", ["\"a.weight\"", "\"__metadata__\""]),
         ("\"shape\"", ["\"shape\":[],\"shape\"", "\"shap\""]),
         ("\"data_offsets\"", ["\"data_offsets\":[0,0],\"data_offsets\"", "\"offsets\""]),
         ("\"sha256\":\"", ["\"sha256\":\"0", "\"sha256\":1,\"x\":\""])],
        n => n);
    }

    private FuzzTarget Architecture()
    {
        string path = _dir["arch.npz"];
        Checkpoint.Save(path, SmallCnn(), inputShape: [1, 6, 6]);
        string document;
        using (var npz = new NpzReader(path)) document = npz.GetText("architecture.json")!;
        string mlp = NeuralNet.Checkpoints.Architecture.Describe(SmallMlp()).ToJsonString();
        var bn = new Sequential<float>(new Linear<float>(4, 4), new BatchNorm1d<float>(4), new LeakyReLU<float>(0.2), new Dropout<float>(0.3), new Linear<float>(4, 2, bias: false));
        string more = NeuralNet.Checkpoints.Architecture.Describe(bn).ToJsonString();
        return new FuzzTarget("architecture", [Encoding.UTF8.GetBytes(document), Encoding.UTF8.GetBytes(mlp), Encoding.UTF8.GetBytes(more)], (bytes, _) =>
        {
            string text = Encoding.UTF8.GetString(bytes);
            var doc = NeuralNet.Checkpoints.Architecture.ParseDocument(text);
            NeuralNet.Checkpoints.Architecture.InputShape(doc);
            NeuralNet.Checkpoints.Architecture.BuildFromDocument<float>(doc, maxElements: 4L * bytes.Length + (1 << 20));
        }, _ => [],
        [("\"Linear\"", ["\"Conv2d\"", "\"Sequential\"", "\"\"", "null", "7", "[]", "{}", "\"BatchNorm2d\""]),
         ("\"type\"", ["\"layers\"", "\"type\":1,\"type\"", "\"kind\""]),
         ("\"layers\"", ["\"type\"", "\"layers\":[],\"layers\""]),
         ("\"model\"", ["\"input_shape\"", "\"model\":1,\"model\""]),
         ("\"in_features\"", ["\"in_features\":4,\"in_features\"", "\"out_features\""]),
         ("true", ["\"yes\"", "1", "null"])],
        _ => "Architecture");
    }

    // The whole way a checkpoint is read (.npz and safetensors): the architecture, the weights, the input shape, the metadata.
    private FuzzTarget CheckpointFiles()
    {
        string npz = _dir["seed-checkpoint.npz"], st = _dir["seed-checkpoint.safetensors"];
        var meta = new Dictionary<string, string> { ["dataset"] = "mnist" };
        Checkpoint.Save(npz, SmallCnn(), metadata: meta, inputShape: [1, 6, 6]);
        Checkpoint.SaveSafetensors(st, SmallMlp(), meta, [4]);
        return new FuzzTarget("checkpoint", [File.ReadAllBytes(npz), File.ReadAllBytes(st)], (bytes, file) =>
        {
            string path = _dir[file];
            File.WriteAllBytes(path, bytes);
            try
            {
                Checkpoint.Load<float>(path);
                Checkpoint.ReadInputShape(path);
                Checkpoint.ReadMetadata(path);
            }
            finally
            {
                File.Delete(path);
            }
        },
        b => b.Length > 2 && b[0] == 'P' ? ZipFields(b) : [new(0, 8, false), new(0, 4, false)],
        [("\"Linear\"", ["\"Conv2d\"", "\"ReLU\"", "5"]), ("0.weight", ["0.bias\0\0", "4.weight", "0.weigh"]), ("F32", ["F64", "I8", "BF16"]),
         ("<f4", ["<f8", "<i1", "|O"]), ("out_features", ["in_features", "out_feature"])],
        n => n);
    }

    private static FuzzTarget Onnx()
    {
        using var mlp = new MemoryStream();
        OnnxApi.Export(SmallMlp(), mlp, [4]);
        using var cnn = new MemoryStream();
        OnnxApi.Export(SmallCnn(), cnn, [1, 6, 6]);
        return new FuzzTarget("onnx", [mlp.ToArray(), cnn.ToArray()], (bytes, file) => OnnxApi.Import<float>(new MemoryStream(bytes), file),
            _ => [], [("Gemm", ["Conv", "Relu", "Gemx"]), ("Relu", ["Gemm", "Elu"])], n => n);
    }

    // The way `nn train --csv` reads and checks a table: CsvTable.Read, the task, the classes, every column fitted and
    // turned into tensors. The CLI's documented error is a CliException whose message names the file; the target passes
    // it on as an InvalidDataException (same message), so that the fuzzer's rule applies unchanged.
    private FuzzTarget Csv()
    {
        byte[] comma = Encoding.UTF8.GetBytes(
            "age,city,\"note, quoted\",income,label\n" +
            "31,Paris,\"a, b\",1200.5,yes\n" +
            "45,\"New \"\"York\"\"\",plain,NA,no\n" +
            "\n" +
            "28,Lyon,\"two\nlines\",980,yes\n" +
            "52,Paris,x,-3e2,no\n");
        byte[] semicolon = Encoding.UTF8.GetBytes(
            "height;colour;score\r\n" +
            "1,75;red;3,5\r\n" +
            "1,62;\"blue; dark\";4\r\n" +
            "?;green;4,5\r\n" +
            "1,90;red;2,25\r\n");
        return new FuzzTarget("csv", [comma, semicolon], (bytes, file) =>
        {
            string path = _dir[file];
            File.WriteAllBytes(path, bytes);
            try
            {
                var table = CsvTable.Read(path);
                int t = table.Columns.Length - 1;
                string task = TablePreprocessing.DetectTask(table, t);
                int[] rows = Enumerable.Range(0, table.Rows.Count).ToArray();
                if (task == "classification")
                {
                    foreach (int r in rows)
                        if (CsvTable.IsMissing(table.Rows[r][t])) throw new CliException($"{table.Where(r, t)}: the target has no value", 1);
                    if (TablePreprocessing.ClassNames(table, t).Length < 2) throw new CliException($"{table.Path}: one class only", 1);
                }
                var prep = TablePreprocessing.Fit(table, rows, table.Columns[t], [], task, "mean");
                prep.Dataset(table, rows);
            }
            catch (CliException e)
            {
                throw new InvalidDataException(e.Message, e);
            }
            finally
            {
                File.Delete(path);
            }
        }, _ => [],
        [(",", [";", "\t", "\"", ",,", ""]), (";", [",", "\t", ";;", "\""]), ("\"", ["", "\"\"", "\"\"\""]),
         ("\n", ["\r", "\r\n", "\n\n", ""]), ("yes", ["", "NA", "1e400", "yes,extra"]), ("label", ["age", "", "\"\""]),
         ("1200.5", ["1e308", "-1e308", "NaN", "∞", "1,5", "0x10"]), ("3,5", ["3.5", "3,5,5", "1e999"])],
        n => n);
    }
}
