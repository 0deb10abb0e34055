namespace NeuralNet.Tests.Serve;

/// <summary>A test that drives Debian's chromium through /usr/bin/chromedriver on data it makes itself; skipped, with the reason, where either is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(BrowserFactAttribute.Chromium) || !File.Exists(BrowserFactAttribute.ChromeDriver))
            Skip = $"no browser: {BrowserFactAttribute.Chromium} and {BrowserFactAttribute.ChromeDriver} are needed (apt-get install chromium chromium-driver)";
    }
}
