using System.Globalization;
using ScottPlot;

namespace NeuralNet.Cli.Plots;

/// <summary>Figures of a regression model on its test set: predicted against actual values, and the residuals.</summary>
internal static class RegressionFigures
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Each test row as a point (actual, predicted), with the line y = x on which a perfect model's points lie.</summary>
    public static void PredictedVsActual(double[] actual, double[] predicted, string target, double r2, string path)
    {
        var plot = NewPlot($"Predicted vs actual {target} (test, R² {r2.ToString("0.000", Inv)})", $"actual {target}", $"predicted {target}");
        double lo = Math.Min(actual.Min(), predicted.Min()), hi = Math.Max(actual.Max(), predicted.Max());
        var line = plot.Add.Line(lo, lo, hi, hi);
        line.LineColor = Colors.Black.WithAlpha(0.5);
        line.LinePattern = LinePattern.Dashed;
        var points = plot.Add.ScatterPoints(actual, predicted);
        points.MarkerSize = 6;
        points.Color = Color.FromHex("#1f77b4").WithAlpha(0.7);
        Save(plot, path);
    }

    /// <summary>Residuals (predicted − actual) against the predicted value, with the zero line.</summary>
    public static void Residuals(double[] actual, double[] predicted, string target, string path)
    {
        var plot = NewPlot($"Residuals of {target} (test)", $"predicted {target}", "predicted − actual");
        var residuals = predicted.Zip(actual, (p, a) => p - a).ToArray();
        var zero = plot.Add.HorizontalLine(0);
        zero.LineColor = Colors.Black.WithAlpha(0.5);
        zero.LinePattern = LinePattern.Dashed;
        var points = plot.Add.ScatterPoints(predicted, residuals);
        points.MarkerSize = 6;
        points.Color = Color.FromHex("#d62728").WithAlpha(0.7);
        Save(plot, path);
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Font.Set(SkiaCanvas.FontFamily);
        plot.Title(title, 18);
        plot.XLabel(x, 15);
        plot.YLabel(y, 15);
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.08);
        return plot;
    }

    private static void Save(Plot plot, string path)
    {
        Figures.EnsureFolder(path);
        plot.SavePng(path, 700, 600);
    }
}
