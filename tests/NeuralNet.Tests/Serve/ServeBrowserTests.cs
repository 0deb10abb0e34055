using NeuralNet.Tests.Cli;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// <c>nn serve</c>'s page in headless chromium: a "1" and a "0" drawn on the canvas with pointer actions (a mouse and a
/// pen), read back from the page as the predictions it shows. The model is the MLP <see cref="MnistModel"/> trains.
/// </summary>
public sealed class ServeBrowserTests(MnistModel mnist, ITestOutputHelper output) : IClassFixture<MnistModel>
{
    /// <summary>Where a screenshot goes besides the test's folder: $NN_FIGURES, when set (docs/figures for the README).</summary>
    private static readonly string? s_figures = Environment.GetEnvironmentVariable("NN_FIGURES");

    [BrowserFact]
    public async Task A_one_and_a_zero_drawn_on_the_page_are_recognized()
    {
        await using var server = await RunningServer.StartAsync(mnist.File!);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(BrowserFactAttribute.ChromeDriver)!, Path.GetFileName(BrowserFactAttribute.ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserFactAttribute.Chromium };
        // CI runs as root, where chromium's sandbox cannot start
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1450");
        using var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
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
