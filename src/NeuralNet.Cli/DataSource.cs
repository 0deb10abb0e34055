using System.Globalization;
using NeuralNet.Cli.Fetching;
using NeuralNet.Data;
using Spectre.Console;

namespace NeuralNet.Cli;

/// <summary>Finds (or fetches) a data set and loads its splits, reporting progress on the console.</summary>
internal static class DataSource
{
    public static IReadOnlyList<string> Datasets => Mnist.KnownDatasets;

    /// <summary>The folder of <paramref name="dataset"/>: --data, $NN_DATA, the cache, or a download.</summary>
    public static string Locate(string dataset, string? dataRoot, bool quiet)
    {
        if (!Datasets.Contains(dataset)) throw new CliException($"unknown dataset '{dataset}' (known: {string.Join(", ", Datasets)})");
        if (dataRoot is not null && !Directory.Exists(dataRoot)) throw new CliException($"--data folder not found: {dataRoot}", 1);
        var fetcher = new DataFetcher(new DataFetcherOptions { DataRoot = dataRoot });
        long lastReport = 0;
        var progress = new Progress<FetchProgress>(p =>
        {
            if (quiet) return;
            if (p.Message is not null)
            {
                Console.Error.WriteLine(p.Message);
                return;
            }
            long now = Environment.TickCount64;
            if (now - lastReport < 500 && p.BytesSoFar != p.TotalBytes) return;
            lastReport = now;
            Console.Error.WriteLine(p.Fraction is double f
                ? string.Create(CultureInfo.InvariantCulture, $"  {p.FileName}: {f:P0} of {p.TotalBytes / 1e6:F1} MB")
                : string.Create(CultureInfo.InvariantCulture, $"  {p.FileName}: {p.BytesSoFar / 1e6:F1} MB"));
        });
        try
        {
            return fetcher.Locate(dataset, progress);
        }
        catch (DataFetchException e)
        {
            throw new CliException(e.Message, 1);
        }
    }

    /// <summary>Train (minus the validation carve-out), validation and test sets, optionally cut to the first <paramref name="limit"/> images.</summary>
    public static (Dataset<float> Train, Dataset<float> Validation, Dataset<float> Test) Load(
        string dataset, string? dataRoot, double validationFraction, ulong seed, int? limit, bool quiet, bool images = false)
    {
        string folder = Locate(dataset, dataRoot, quiet);
        try
        {
            var (train, val, test) = Mnist.LoadSplits(folder, dataset, validationFraction, seed, flatten: !images);
            if (limit is int n)
            {
                int nVal = (int)Math.Round(n * validationFraction);
                return (train.Take(n), val.Take(Math.Max(nVal, Math.Min(val.Count, 1))), test.Take(n));
            }
            return (train, val, test);
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message, 1);
        }
    }

    /// <summary>The test set of <paramref name="dataset"/>.</summary>
    public static Dataset<float> LoadTest(string dataset, string? dataRoot, int? limit, bool quiet, bool images = false)
    {
        string folder = Locate(dataset, dataRoot, quiet);
        try
        {
            var test = Mnist.Load(folder, train: false, flatten: !images, dataset);
            return limit is int n ? test.Take(n) : test;
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message, 1);
        }
    }
}
