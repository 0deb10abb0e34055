namespace NeuralNet.Tests.Serve;

/// <summary>
/// A test that drives Debian's chromium through /usr/bin/chromedriver on MNIST (NN_DATA); skipped, with the reason,
/// where either is missing (.ci/run installs chromium and chromium-driver where it can).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public const string ChromeDriver = "/usr/bin/chromedriver";

    public BrowserFactAttribute()
    {
        string? data = Environment.GetEnvironmentVariable("NN_DATA");
        if (!OperatingSystem.IsLinux() || !File.Exists(Chromium) || !File.Exists(ChromeDriver))
            Skip = $"no browser: {Chromium} and {ChromeDriver} are needed (apt-get install chromium chromium-driver)";
        else if (string.IsNullOrEmpty(data) || !Directory.Exists(Path.Combine(data, "mnist")))
            Skip = "NN_DATA does not hold mnist/: the browser test trains a model on MNIST";
    }
}
