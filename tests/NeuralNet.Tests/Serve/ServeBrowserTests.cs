using NeuralNet.Tests.Cli;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// <c>nn serve</c>'s page in headless chromium: a "1" and a "0" drawn on the canvas with pointer actions (a mouse and a
/// pen), read back from the page as the predictions it shows (the MLP <see cref="MnistModel"/> trains), and a CNN's
/// feature maps drawn (with a finger).
/// </summary>
public sealed class ServeBrowserTests(MnistModel mnist, ITestOutputHelper output) : IClassFixture<MnistModel>
{
    /// <summary>Where a screenshot goes besides the test's folder: $NN_FIGURES, when set (docs/figures for the README).</summary>
    private static readonly string? s_figures = Environment.GetEnvironmentVariable("NN_FIGURES");

    [BrowserFact]
    public async Task A_one_and_a_zero_drawn_on_the_page_are_recognized()
    {
        await using var server = await RunningServer.StartAsync(mnist.File!);
        using var driver = Chromium();
        driver.Navigate().GoToUrl(server.Address);
        WaitFor(driver, "document.body.dataset.ready === '1'", "the page to load the model card");
        Assert.Contains("MLP 784→128→10", driver.FindElement(By.Id("card-summary")).Text);

        var pad = driver.FindElement(By.Id("pad"));
        // a "1": one stroke down the middle, with the mouse (offsets from the canvas's centre, in CSS pixels)
        Draw(driver, pad, PointerKind.Mouse, Enumerable.Range(0, 19).Select(i => (4 - i / 4, -90 + 10 * i)));
        string one = Answer(driver);
        output.WriteLine($"drew a 1, the page says {one}: {Probabilities(driver)}");
        Assert.Equal("1", one);
        Assert.Equal(10, driver.FindElements(By.CssSelector("#bars .bar")).Count);
        Assert.NotEmpty(driver.FindElements(By.CssSelector("#layers canvas.strip")));

        driver.FindElement(By.Id("clear")).Click();
        Assert.Equal("", driver.FindElement(By.Id("prediction")).Text);
        // a "0": an ellipse, with a pen
        Draw(driver, pad, PointerKind.Pen, Enumerable.Range(0, 41).Select(i =>
            ((int)Math.Round(55 * Math.Sin(2 * Math.PI * i / 40)), (int)Math.Round(-85 * Math.Cos(2 * Math.PI * i / 40)))));
        string zero = Answer(driver);
        output.WriteLine($"drew a 0, the page says {zero}: {Probabilities(driver)}");

        var shot = ((ITakesScreenshot)driver).GetScreenshot();
        shot.SaveAsFile(Path.Combine(AppContext.BaseDirectory, "serve_demo.png"));
        if (!string.IsNullOrEmpty(s_figures)) shot.SaveAsFile(Path.Combine(s_figures, "serve_demo.png"));
        Assert.Equal("0", zero);
    }

    [BrowserFact]
    public async Task Each_convolutions_feature_maps_are_shown_as_small_images()
    {
        // an untrained small CNN (as nn train --model cnn --fast builds it): its feature maps show whatever it was given
        string path = Path.Combine(Path.GetTempPath(), $"nn-serve-cnn-{Guid.NewGuid():N}.npz");
        var cnn = NeuralNet.Cli.ModelFactory.Build("cnn", 784, 10, [], NeuralNet.Init.Init.HeNormal(), seed: 3, fast: true);
        NeuralNet.Checkpoints.Checkpoint.Save(path, cnn, metadata: new Dictionary<string, string> { ["dataset"] = "mnist" });
        try
        {
            await using var server = await RunningServer.StartAsync(path);
            using var driver = Chromium();
            driver.Navigate().GoToUrl(server.Address);
            WaitFor(driver, "document.body.dataset.ready === '1'", "the page to load the model card");
            Draw(driver, driver.FindElement(By.Id("pad")), PointerKind.Touch, Enumerable.Range(0, 19).Select(i => (-40 + 4 * i, -80 + 9 * i)));
            Answer(driver);
            var blocks = driver.FindElements(By.CssSelector("#layers .layer"));
            var titles = blocks.Select(b => b.FindElement(By.TagName("h3")).Text).ToArray();
            output.WriteLine(string.Join("\n", titles));
            // conv 1→16 (24×24 maps) and conv 16→32 (8×8), each after its BatchNorm and ReLU; then the 128 hidden units
            Assert.Equal([16, 32, 0], blocks.Select(b => b.FindElements(By.CssSelector(".maps canvas")).Count));
            Assert.Matches(@"^Conv2d\(1, 16, .*→ ReLU: 16 maps of 24×24$", titles[0]);
            Assert.Matches(@"^Conv2d\(16, 32, .*→ ReLU: 32 maps of 8×8$", titles[1]);
            Assert.Matches(@"^Linear\(in_features=512, out_features=128.*→ ReLU: 128 units$", titles[2]);
            // the maps are drawn: some pixel of the first layer's maps is not black
            long lit = (long)driver.ExecuteScript(
                "let n = 0; for (const c of document.querySelectorAll('#layers .layer:first-child .maps canvas')) {" +
                " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++; } return n;")!;
            Assert.True(lit > 0, "every feature map is black");
            ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(AppContext.BaseDirectory, "serve_cnn.png"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Headless chromium through Debian's chromedriver; nothing is downloaded.</summary>
    internal static ChromeDriver Chromium()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(BrowserFactAttribute.ChromeDriver)!, Path.GetFileName(BrowserFactAttribute.ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserFactAttribute.Chromium };
        // CI runs as root, where chromium's sandbox cannot start
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1300");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
    }

    /// <summary>One stroke through <paramref name="points"/> (offsets from the element's centre), pressed from the first to the last.</summary>
    private static void Draw(ChromeDriver driver, IWebElement pad, PointerKind kind, IEnumerable<(int X, int Y)> points)
    {
        var device = new PointerInputDevice(kind, kind.ToString().ToLowerInvariant());
        var actions = new ActionBuilder();
        bool down = false;
        foreach (var (x, y) in points)
        {
            actions.AddAction(device.CreatePointerMove(pad, x, y, TimeSpan.FromMilliseconds(15)));
            if (!down) actions.AddAction(device.CreatePointerDown(MouseButton.Left));
            down = true;
        }
        actions.AddAction(device.CreatePointerUp(MouseButton.Left));
        driver.PerformActions(actions.ToActionSequenceList());
        driver.ResetInputState();
    }

    /// <summary>The prediction the page shows once the last drawing's answer has arrived.</summary>
    private static string Answer(ChromeDriver driver)
    {
        WaitFor(driver, "document.body.dataset.pending === '0' && document.getElementById('prediction').textContent !== ''", "the page to show a prediction");
        return driver.FindElement(By.Id("prediction")).Text;
    }

    private static string Probabilities(ChromeDriver driver) =>
        string.Join(" ", driver.FindElements(By.CssSelector("#bars .probability")).Select(e => e.Text));

    private static void WaitFor(ChromeDriver driver, string condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(driver.ExecuteScript($"return {condition};") is true))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 15 s for {what}; the page says: {driver.FindElement(By.Id("status")).Text}");
            Thread.Sleep(50);
        }
    }
}
