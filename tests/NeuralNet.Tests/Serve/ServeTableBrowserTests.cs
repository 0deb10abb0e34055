using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace NeuralNet.Tests.Serve;

/// <summary>
/// <c>nn serve</c>'s page for a table model in headless chromium: the form built from the card (means as defaults,
/// categories as options), filled in by typing and choosing, and the prediction it shows compared with the API's.
/// </summary>
[Collection("Console")]
public sealed class ServeTableBrowserTests(TableModels tables, ITestOutputHelper output) : IClassFixture<TableModels>
{
    [ChromiumFact]
    public async Task The_form_filled_in_shows_the_class_the_api_gives_for_the_same_row()
    {
        await using var server = await RunningServer.StartAsync(tables.Classifier);
        var card = JsonDocument.Parse(await server.Client.GetStringAsync("api/model")).RootElement;
        double mean = card.GetProperty("columns")[0].GetProperty("mean").GetDouble();
        using var driver = ServeBrowserTests.Chromium();
        driver.Navigate().GoToUrl(server.Address);
        WaitFor(driver, "document.body.dataset.ready === '1'", "the page to load the model card");
        // the defaults are predicted at once
        string first = Answer(driver);
        Assert.False(driver.FindElement(By.Id("pad")).Displayed);
        Assert.Equal(["x1", "x2", "colour"], driver.FindElements(By.CssSelector("#features label")).Select(l => l.Text));
        Assert.Equal(mean, double.Parse(driver.FindElement(By.Id("field-0")).GetAttribute("value")!, CultureInfo.InvariantCulture), 1e-5);
        Assert.Equal(["blue", "green", "red"], driver.FindElements(By.CssSelector("#field-2 option")).Select(o => o.Text));
        Assert.Equal(await ApiLabel(server, mean, card.GetProperty("columns")[1].GetProperty("mean").GetDouble(), "blue"), first);

        foreach (var (x1, x2, colour) in new[] { (0.9, 0.5, "red"), (-0.8, -0.7, "blue") })
        {
            Type(driver, "field-0", x1);
            Type(driver, "field-1", x2);
            driver.FindElement(By.CssSelector($"#field-2 option[value='{colour}']")).Click();
            string shown = Answer(driver);
            string probabilities = string.Join(" ", driver.FindElements(By.CssSelector("#bars .probability")).Select(e => e.Text));
            output.WriteLine($"x1 = {x1}, x2 = {x2}, colour = {colour}: the page says {shown} ({probabilities})");
            Assert.Equal(await ApiLabel(server, x1, x2, colour), shown);
            Assert.Equal(x1 + x2 + (colour == "red" ? 1 : 0) > 0.5 ? "hi" : "lo", shown);
            Assert.Equal(2, driver.FindElements(By.CssSelector("#bars .bar")).Count);
        }
        ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(AppContext.BaseDirectory, "serve_table.png"));
    }

    private static async Task<string> ApiLabel(RunningServer server, double x1, double x2, string colour)
    {
        string body = string.Create(CultureInfo.InvariantCulture, $"{{\"features\":{{\"x1\":{x1:R},\"x2\":{x2:R},\"colour\":\"{colour}\"}}}}");
        var response = await server.Client.PostAsync("api/predict", new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("label").GetString()!;
    }

    /// <summary>Types <paramref name="value"/> into a number field and leaves it (Tab), which sends the row.</summary>
    private static void Type(ChromeDriver driver, string id, double value)
    {
        var field = driver.FindElement(By.Id(id));
        field.Clear();
        field.SendKeys(value.ToString("R", CultureInfo.InvariantCulture) + Keys.Tab);
    }

    /// <summary>The prediction the page shows once the last request's answer has arrived.</summary>
    private static string Answer(ChromeDriver driver)
    {
        WaitFor(driver, "document.body.dataset.pending === '0' && document.getElementById('table-prediction').textContent !== ''", "the page to show a prediction");
        return driver.FindElement(By.Id("table-prediction")).Text;
    }

    private static void WaitFor(ChromeDriver driver, string condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(driver.ExecuteScript($"return {condition};") is true))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 15 s for {what}; the page says: {driver.FindElement(By.Id("table-status")).Text}");
            Thread.Sleep(50);
        }
    }
}
