using System.Globalization;
using NeuralNet.Tensors;
using NeuralNet.Training;
using ScottPlot;
using SkiaSharp;

namespace NeuralNet.Cli.Plots;

/// <summary>The PNG figures of the command-line tool: learning curves, confusion matrix, image grids and run comparisons.</summary>
public static class Figures
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly Color TrainColor = Color.FromHex("#1f77b4");
    private static readonly Color ValidationColor = Color.FromHex("#d62728");
    private static readonly Color BestColor = Color.FromHex("#2ca02c");
    private static readonly Color[] RunColors = new ScottPlot.Palettes.Category10().Colors;

    // ───────────────────────────── learning curves ─────────────────────────────

    /// <summary>Train vs validation loss per epoch (x: epoch 1..N), with the best epoch marked.</summary>
    public static void LossCurve(History history, string path, string title = "Loss")
    {
        ArgumentNullException.ThrowIfNull(history);
        var plot = CurvePlot(title, "Loss");
        var epochs = history.Epochs;
        AddSeries(plot, epochs, e => e.TrainLoss, "train", TrainColor);
        bool hasVal = AddSeries(plot, epochs, e => e.ValidationLoss, "validation", ValidationColor);
        var best = epochs.FirstOrDefault(e => e.Epoch == history.BestEpoch);
        string? bestText = best is null ? null
            : string.Create(Inv, $"best: epoch {best.Epoch + 1}\n{(hasVal ? "val" : "train")} loss {(hasVal ? best.ValidationLoss : best.TrainLoss):0.####}");
        FinishCurve(plot, epochs, 0, best is null ? null : best.Epoch + 1, bestText);
        Save(plot, path, 800, 500);
    }

    /// <summary>Train vs validation accuracy (percent), best epoch marked, final validation accuracy annotated.</summary>
    public static void AccuracyCurve(History history, string path, string title = "Accuracy")
    {
        ArgumentNullException.ThrowIfNull(history);
        var plot = CurvePlot(title, "Accuracy (%)");
        var epochs = history.Epochs;
        AddSeries(plot, epochs, e => 100 * e.TrainAccuracy, "train", TrainColor);
        bool hasVal = AddSeries(plot, epochs, e => 100 * e.ValidationAccuracy, "validation", ValidationColor);
        var best = epochs.FirstOrDefault(e => e.Epoch == history.BestEpoch);
        string? bestText = best is null ? null
            : string.Create(Inv, $"best: epoch {best.Epoch + 1}\n{(hasVal ? "val" : "train")} acc {100 * (hasVal ? best.ValidationAccuracy : best.TrainAccuracy):0.00}%");

        var last = epochs.LastOrDefault(e => double.IsFinite(hasVal ? e.ValidationAccuracy : e.TrainAccuracy));
        ScottPlot.Plottables.Text? final = null;
        Coordinates finalAt = default;
        if (last is not null)
        {
            double y = 100 * (hasVal ? last.ValidationAccuracy : last.TrainAccuracy);
            var color = hasVal ? ValidationColor : TrainColor;
            var marker = plot.Add.Marker(last.Epoch + 1, y, MarkerShape.FilledCircle, 11, color);
            marker.LegendText = "";
            finalAt = new Coordinates(last.Epoch + 1, y);
            var text = plot.Add.Text(string.Create(Inv, $"final {(hasVal ? "val" : "train")} acc {y:0.00}%"), last.Epoch + 1, y);
            text.LabelFontSize = 14;
            text.LabelBold = true;
            text.LabelFontColor = color;
            text.LabelBackgroundColor = Colors.White.WithAlpha(0.85);
            text.LabelBorderColor = color;
            text.LabelBorderWidth = 1;
            text.LabelPadding = 4;
            final = text;
        }
        FinishCurve(plot, epochs, 1, best is null ? null : best.Epoch + 1, bestText);
        if (final is not null) PlaceLabel(plot, final, finalAt, 800, 500);
        Save(plot, path, 800, 500);
    }

    /// <summary>Overlaid curves of several runs: validation accuracy and training loss vs epoch, side by side.</summary>
    public static void Comparison(IReadOnlyList<(string Name, History History)> runs, string path, string title)
    {
        ArgumentNullException.ThrowIfNull(runs);
        bool anyVal = runs.Any(r => r.History.Epochs.Any(e => double.IsFinite(e.ValidationAccuracy)));
        var acc = CurvePlot(anyVal ? "Validation accuracy" : "Training accuracy", "Accuracy (%)");
        var loss = CurvePlot("Training loss", "Loss");
        var all = new List<EpochRecord>();
        var legend = new List<(string Name, Color Color, int Style)>();
        for (int i = 0; i < runs.Count; i++)
        {
            var (name, history) = runs[i];
            var color = RunColors[i % RunColors.Length];
            int style = Math.Min(2, i / RunColors.Length);
            var pattern = style switch { 0 => LinePattern.Solid, 1 => LinePattern.Dashed, _ => LinePattern.Dotted };
            all.AddRange(history.Epochs);
            bool shown = AddSeries(acc, history.Epochs, e => 100 * (anyVal ? e.ValidationAccuracy : e.TrainAccuracy), name, color, pattern);
            AddSeries(loss, history.Epochs, e => e.TrainLoss, name, color, pattern);
            string suffix = history.Epochs.Count == 0 ? " (no epochs)" : shown || !anyVal ? "" : " (no validation)";
            legend.Add((name + suffix, color, style));
        }
        FinishCurve(acc, all, 1, legend: false);
        FinishCurve(loss, all, 0, legend: false);

        const int panelWidth = 700, panelHeight = 500, titleHeight = 44, rowHeight = 24;
        using var legendFont = SkiaCanvas.Font(14);
        const float sample = 30, gap = 26, inner = 8;
        // Lay the legend out in centred rows under the title.
        var rows = new List<List<int>> { new() };
        var rowWidths = new List<float> { 0 };
        for (int i = 0; i < legend.Count; i++)
        {
            float w = sample + inner + legendFont.MeasureText(legend[i].Name);
            if (rows[^1].Count > 0 && rowWidths[^1] + gap + w > 2 * panelWidth - 40)
            {
                rows.Add([]);
                rowWidths.Add(0);
            }
            rowWidths[^1] += (rows[^1].Count > 0 ? gap : 0) + w;
            rows[^1].Add(i);
        }
        int header = titleHeight + (legend.Count == 0 ? 0 : rows.Count * rowHeight + 6);
        SkiaCanvas.SavePng(path, 2 * panelWidth, panelHeight + header, canvas =>
        {
            using var font = SkiaCanvas.Font(22, bold: true);
            SkiaCanvas.TextCentered(canvas, title, panelWidth, 32, font, SkiaCanvas.Ink);
            for (int r = 0; r < rows.Count; r++)
            {
                float x = panelWidth - rowWidths[r] / 2, y = titleHeight + r * rowHeight + 14;
                foreach (int i in rows[r])
                {
                    var (name, color, style) = legend[i];
                    using var pen = SkiaCanvas.Stroke(color.ToSKColor(), 3);
                    if (style > 0) pen.PathEffect = SKPathEffect.CreateDash(style == 1 ? [7f, 4f] : [2f, 3f], 0);
                    canvas.DrawLine(x, y - 5, x + sample, y - 5, pen);
                    using var dot = SkiaCanvas.Fill(color.ToSKColor());
                    canvas.DrawCircle(x + sample / 2, y - 5, 4, dot);
                    SkiaCanvas.TextLeft(canvas, name, x + sample + inner, y, legendFont, SkiaCanvas.Ink);
                    x += sample + inner + legendFont.MeasureText(name) + gap;
                }
            }
            using var left = SkiaCanvas.Render(acc, panelWidth, panelHeight);
            using var right = SkiaCanvas.Render(loss, panelWidth, panelHeight);
            canvas.DrawImage(left, 0, header);
            canvas.DrawImage(right, panelWidth, header);
        });
    }

    private static Plot CurvePlot(string title, string yLabel)
    {
        var plot = NewPlot();
        plot.Title(title, 20);
        plot.XLabel("Epoch", 15);
        plot.YLabel(yLabel, 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.08);
        return plot;
    }

    /// <summary>Adds the finite points of one metric; false (and nothing added) when there are none.</summary>
    private static bool AddSeries(Plot plot, IReadOnlyList<EpochRecord> epochs, Func<EpochRecord, double> value, string label, Color color,
        LinePattern? pattern = null)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var e in epochs)
        {
            double v = value(e);
            if (!double.IsFinite(v)) continue;
            xs.Add(e.Epoch + 1);
            ys.Add(v);
        }
        if (xs.Count == 0) return false;
        var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
        scatter.LegendText = label;
        scatter.LineWidth = 2.5f;
        scatter.LinePattern = pattern ?? LinePattern.Solid;
        scatter.MarkerSize = xs.Count <= 40 ? 7 : 0;
        scatter.MarkerShape = MarkerShape.FilledCircle;
        return true;
    }

    /// <summary>
    /// Puts <paramref name="label"/> next to <paramref name="anchor"/> (above or below it, to its left) where it covers
    /// the fewest curve points and other text, judged on a trial rendering at the final size.
    /// </summary>
    private static void PlaceLabel(Plot plot, ScottPlot.Plottables.Text label, Coordinates anchor, int width, int height)
    {
        label.LabelAlignment = Alignment.UpperRight;
        label.OffsetX = -10;
        label.OffsetY = 10;
        plot.RenderInMemory(width, height);
        var data = plot.LastRender.DataRect;
        var size = label.LabelStyle.LastRenderPixelRect;
        float w = size.Width, h = size.Height;
        if (!(w > 0 && h > 0)) return;
        var p = plot.GetPixel(anchor);

        // Obstacles: every curve, sampled every 2 px, and the other labels.
        var points = new List<Pixel>();
        foreach (var scatter in plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>())
        {
            var pixels = scatter.Data.GetScatterPoints().Where(c => double.IsFinite(c.Y)).Select(plot.GetPixel).ToArray();
            for (int i = 0; i + 1 < pixels.Length; i++)
            {
                var (a, b) = (pixels[i], pixels[i + 1]);
                int steps = Math.Max(1, (int)(Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y)) / 2));
                for (int k = 0; k <= steps; k++) points.Add(new Pixel(a.X + (b.X - a.X) * k / steps, a.Y + (b.Y - a.Y) * k / steps));
            }
        }
        var others = plot.GetPlottables().OfType<ScottPlot.Plottables.Text>().Where(t => !ReferenceEquals(t, label))
            .Select(t => t.LabelStyle.LastRenderPixelRect).Where(r => r.Width > 0).ToArray();

        double bestScore = double.PositiveInfinity;
        (Alignment Alignment, float Dx, float Dy) chosen = (Alignment.UpperRight, -10, 10);
        foreach (float dy in new[] { 10f, 30f, 55f, 85f })
            foreach (bool above in new[] { false, true })
                foreach (float dx in new[] { -10f, -60f })
                {
                    float left = p.X + dx - w, right = p.X + dx;
                    float top = above ? p.Y - dy - h : p.Y + dy, bottom = top + h;
                    if (left < data.Left + 2 || right > data.Right - 2 || top < data.Top + 2 || bottom > data.Bottom - 2) continue;
                    double score = points.Count(q => q.X >= left - 3 && q.X <= right + 3 && q.Y >= top - 3 && q.Y <= bottom + 3);
                    score += 1000 * others.Count(r => r.Left < right && r.Right > left && r.Top < bottom && r.Bottom > top);
                    score += (dy - 10) / 100 + Math.Abs(dx + 10) / 200; // prefer the nearest spot
                    if (score < bestScore)
                    {
                        bestScore = score;
                        chosen = (above ? Alignment.LowerRight : Alignment.UpperRight, dx, above ? -dy : dy);
                    }
                }
        label.LabelAlignment = chosen.Alignment;
        label.OffsetX = chosen.Dx;
        label.OffsetY = chosen.Dy;
    }

    /// <summary>Axis limits (a little room around the data), the best-epoch marker, the legend (outside, on the right),
    /// or a note when there is no data. <paramref name="kind"/>: 0 loss, 1 accuracy in percent.</summary>
    private static void FinishCurve(Plot plot, IReadOnlyList<EpochRecord> epochs, int kind, int? bestX = null, string? bestText = null, bool legend = true)
    {
        if (epochs.Count == 0)
        {
            var note = plot.Add.Annotation("no epochs recorded", Alignment.MiddleCenter);
            note.LabelFontSize = 16;
            note.LabelFontColor = Colors.Gray;
            note.LabelBackgroundColor = Colors.White;
            note.LabelBorderColor = Colors.LightGray;
            note.LabelShadowColor = Colors.Transparent;
            note.LabelPadding = 8;
            plot.Axes.SetLimits(0.5, 1.5, 0, kind == 1 ? 100 : 1);
            plot.HideLegend();
            return;
        }
        int first = epochs.Min(e => e.Epoch) + 1, last = epochs.Max(e => e.Epoch) + 1;
        double pad = Math.Max(0.3, (last - first) * 0.03);
        double left = first - pad, right = last + pad;
        plot.Axes.SetLimitsX(left, right);

        double bottom = 0, top = 1;
        var values = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>()
            .SelectMany(s => s.Data.GetScatterPoints()).Select(p => p.Y).Where(double.IsFinite).ToArray();
        if (values.Length > 0)
        {
            double lo = values.Min(), hi = values.Max();
            // A flat curve (or a single epoch) still gets a readable span around its value.
            double minSpan = kind == 1 ? 2.0 : Math.Max(1e-3, Math.Abs(hi) * 0.2);
            if (hi - lo < minSpan) (lo, hi) = ((lo + hi - minSpan) / 2, (lo + hi + minSpan) / 2);
            double range = hi - lo;
            // Room for the best-epoch label: on top for losses (they fall), at the bottom for accuracies (they rise).
            double labelRoom = bestText is null ? 0.06 : 0.24;
            bottom = lo - range * (kind == 1 ? labelRoom : 0.06);
            top = hi + range * (kind == 1 ? 0.08 : labelRoom);
            if (kind == 0) bottom = Math.Max(bottom, Math.Min(0, lo));
            if (kind == 1)
            {
                bottom = Math.Max(bottom, 0);
                top = Math.Min(top, Math.Max(100.5, hi + range * 0.02));
            }
            plot.Axes.SetLimitsY(bottom, top);
        }

        if (bestX is int x)
        {
            var line = plot.Add.VerticalLine(x, 1.5f, BestColor, LinePattern.Dashed);
            line.LegendText = "best epoch";
            if (bestText is not null)
            {
                bool toLeft = (x - left) / (right - left) > 0.6;
                bool atTop = kind != 1;
                var label = plot.Add.Text(bestText, x, atTop ? top : bottom);
                label.LabelFontSize = 13;
                label.LabelFontColor = BestColor.Darken(0.3);
                label.LabelBackgroundColor = Colors.White.WithAlpha(0.85);
                label.LabelPadding = 3;
                label.LabelAlignment = (atTop, toLeft) switch
                {
                    (true, true) => Alignment.UpperRight,
                    (true, false) => Alignment.UpperLeft,
                    (false, true) => Alignment.LowerRight,
                    (false, false) => Alignment.LowerLeft,
                };
                label.OffsetX = toLeft ? -4 : 4;
                label.OffsetY = atTop ? 4 : -4;
            }
        }

        if (legend && plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Any())
        {
            plot.ShowLegend(Edge.Right);
            plot.Legend.FontSize = 14;
        }
        else plot.HideLegend();
    }

    // ───────────────────────────── confusion matrix ─────────────────────────────

    /// <summary>Heat map of the confusion matrix (rows: true class, columns: predicted) with the count in every cell.</summary>
    public static void ConfusionMatrix(long[,] confusion, IReadOnlyList<string> classNames, string path, string title = "Confusion matrix")
    {
        ArgumentNullException.ThrowIfNull(confusion);
        int n = confusion.GetLength(0);
        if (confusion.GetLength(1) != n) throw new ArgumentException($"The confusion matrix must be square, not {n}×{confusion.GetLength(1)}.", nameof(confusion));
        var names = Enumerable.Range(0, n).Select(i => classNames is not null && i < classNames.Count ? classNames[i] : i.ToString(Inv)).ToArray();

        long total = 0, correct = 0;
        var rowSum = new long[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                rowSum[i] += confusion[i, j];
                total += confusion[i, j];
                if (i == j) correct += confusion[i, j];
            }
        // Colour: share of the true class (so that rare classes are as visible as frequent ones), on a square-root
        // scale so that the few-percent confusions stand out from the empty cells.
        var fraction = new double[n, n];
        var shade = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                fraction[i, j] = rowSum[i] == 0 ? 0 : (double)confusion[i, j] / rowSum[i];
                shade[i, j] = Math.Sqrt(fraction[i, j]);
            }

        var plot = NewPlot();
        string accuracy = total == 0 ? "no samples" : string.Create(Inv, $"accuracy {100.0 * correct / total:0.00}%  ({correct:N0} / {total:N0})");
        plot.Title($"{title} — {accuracy}", 18);
        var heatmap = plot.Add.Heatmap(shade);
        heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated(
            Color.FromHex(["#f7fbff", "#deebf7", "#9ecae1", "#4292c6", "#2171b5", "#08306b"]));
        heatmap.ManualRange = new ScottPlot.Range(0, 1);

        var colorbar = plot.Add.ColorBar(heatmap);
        colorbar.Label = "share of the true class (square-root scale)";
        colorbar.LabelStyle.FontSize = 13;
        double[] keyShares = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1];
        colorbar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            keyShares.Select(Math.Sqrt).ToArray(), keyShares.Select(v => string.Create(Inv, $"{100 * v:0}%")).ToArray());
        colorbar.Axis.TickLabelStyle.FontSize = 12;

        int size = Math.Max(700, 48 * n + 200);
        int height = Math.Max(600, 48 * n + 150);
        float cellPixels = (height - 170f) / n;
        float fontSize = Math.Clamp(cellPixels * 0.34f, 7, 15);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                long count = confusion[i, j];
                var text = plot.Add.Text(count.ToString(Inv), j, n - 1 - i);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = count == 0 ? fontSize * 0.85f : fontSize;
                text.LabelBold = i == j && count > 0;
                text.LabelFontColor = shade[i, j] > 0.6 ? Colors.White : count == 0 ? Colors.Black.WithAlpha(0.35) : Colors.Black;
            }

        var ticks = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, names);
        plot.Axes.Left.SetTicks(ticks.Select(t => n - 1 - t).ToArray(), names);
        using (var measure = SkiaCanvas.Font(13))
        {
            float widest = names.Max(s => measure.MeasureText(s));
            if (widest > (size - 250f) / n - 6)
            {
                plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
                plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
                plot.Axes.Bottom.MinimumSize = widest * 0.71f + 50;
                height += (int)(widest * 0.71f);
            }
        }
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.XLabel("Predicted class", 15);
        plot.YLabel("True class", 15);
        plot.HideGrid();
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        Save(plot, path, size, height);
    }

    // ───────────────────────────── image grids ─────────────────────────────

    /// <summary>A grid of misclassified images, each captioned "true X → pred Y".</summary>
    public static void Misclassified(Tensor<float> images, IReadOnlyList<int> labels, IReadOnlyList<int> predicted, IReadOnlyList<string> classNames,
        string path, int maxImages = 32)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predicted);
        int count = Math.Min(images.Rows, Math.Min(labels.Count, predicted.Count));
        int side = SquareSide(images.RowLength, nameof(images));
        string Name(int c) => classNames is not null && c >= 0 && c < classNames.Count ? classNames[c] : c.ToString(Inv);

        var wrong = new List<int>();
        int errors = 0;
        for (int i = 0; i < count; i++)
            if (labels[i] != predicted[i])
            {
                errors++;
                if (wrong.Count < Math.Max(0, maxImages)) wrong.Add(i);
            }

        // Values are expected in [0, 1]; standardized inputs (outside that range) are stretched per image instead.
        var tiles = wrong.Select(i => images.Row(i).ToArray()).ToList();
        bool unitRange = tiles.All(t => t.All(v => !float.IsFinite(v) || (v >= -0.01f && v <= 1.01f)));
        foreach (var t in tiles)
        {
            float lo = 0, hi = 1;
            if (!unitRange)
            {
                var finite = t.Where(float.IsFinite).DefaultIfEmpty(0).ToArray();
                (lo, hi) = (finite.Min(), finite.Max());
                if (hi <= lo) hi = lo + 1;
            }
            for (int p = 0; p < t.Length; p++) t[p] = float.IsFinite(t[p]) ? Math.Clamp((t[p] - lo) / (hi - lo), 0, 1) : 0;
        }

        int columns = Math.Clamp(wrong.Count, 1, 8);
        int rows = Math.Max(1, (wrong.Count + columns - 1) / columns);
        const float scale = 4, pad = 10, captionHeight = 40, header = 64;
        float image = side * scale;
        float tileWidth = Math.Max(image + 28, 136), tileHeight = image + captionHeight;
        int width = (int)Math.Ceiling(Math.Max(columns * (tileWidth + pad) + pad, 520));
        int height = (int)Math.Ceiling(header + rows * (tileHeight + pad) + pad);
        float left = (width - columns * (tileWidth + pad) + pad) / 2;

        SkiaCanvas.SavePng(path, width, height, canvas =>
        {
            using var titleFont = SkiaCanvas.Font(20, bold: true);
            using var subFont = SkiaCanvas.Font(13);
            SkiaCanvas.TextCentered(canvas, "Misclassified examples", width / 2f, 30, titleFont, SkiaCanvas.Ink);
            string sub = wrong.Count == 0
                ? string.Create(Inv, $"no misclassified examples among {count:N0}")
                : string.Create(Inv, $"{wrong.Count} shown of {errors:N0} errors in {count:N0} samples ({100.0 * errors / Math.Max(1, count):0.00}% error)");
            SkiaCanvas.TextCentered(canvas, sub, width / 2f, 52, subFont, SkiaCanvas.Muted);

            using var frame = SkiaCanvas.Stroke(SkiaCanvas.Frame, 1);
            using var tileBack = SkiaCanvas.Fill(new SKColor(0xF6, 0xF6, 0xF6));
            for (int k = 0; k < wrong.Count; k++)
            {
                int index = wrong[k];
                float x = left + (k % columns) * (tileWidth + pad), y = header + (k / columns) * (tileHeight + pad);
                canvas.DrawRoundRect(new SKRect(x, y, x + tileWidth, y + tileHeight), 4, 4, tileBack);
                var dest = SKRect.Create(x + (tileWidth - image) / 2, y + 4, image, image);
                var pixels = tiles[k];
                SkiaCanvas.DrawPixels(canvas, side, p =>
                {
                    byte g = (byte)Math.Round(255 * pixels[p]);
                    return new SKColor(g, g, g);
                }, dest);
                canvas.DrawRect(dest, frame);
                Caption(canvas, Name(labels[index]), Name(predicted[index]), x, dest.Bottom, tileWidth);
            }
        });
    }

    /// <summary>"true X → pred Y" on one line when it fits, else on two lines ("true X" / "→ pred Y").</summary>
    private static void Caption(SKCanvas canvas, string truth, string pred, float x, float top, float width)
    {
        var green = new SKColor(0x1B, 0x7A, 0x2E);
        var red = new SKColor(0xC0, 0x1F, 0x1F);
        using var font = SkiaCanvas.Font(13);
        using var bold = SkiaCanvas.Font(13, bold: true);
        float room = width - 8;
        float total = font.MeasureText("true ") + bold.MeasureText(truth) + font.MeasureText(" → pred ") + bold.MeasureText(pred);
        if (total <= room)
        {
            float cx = x + (width - total) / 2, baseline = top + 24;
            Segment(ref cx, baseline, "true ", font, SkiaCanvas.Muted);
            Segment(ref cx, baseline, truth, bold, green);
            Segment(ref cx, baseline, " → pred ", font, SkiaCanvas.Muted);
            Segment(ref cx, baseline, pred, bold, red);
            return;
        }
        Line(top + 18, "true ", truth, green);
        Line(top + 34, "→ pred ", pred, red);

        void Line(float baseline, string prefix, string name, SKColor color)
        {
            string fitted = SkiaCanvas.Fit(name, bold, room - font.MeasureText(prefix));
            float cx = x + (width - font.MeasureText(prefix) - bold.MeasureText(fitted)) / 2;
            Segment(ref cx, baseline, prefix, font, SkiaCanvas.Muted);
            Segment(ref cx, baseline, fitted, bold, color);
        }

        void Segment(ref float cx, float baseline, string text, SKFont f, SKColor color)
        {
            SkiaCanvas.TextLeft(canvas, text, cx, baseline, f, color);
            cx += f.MeasureText(text);
        }
    }

    /// <summary>Each hidden unit's incoming weights as an image, scaled to ±max|w| of that unit, blue (−) · white (0) · red (+).</summary>
    public static void FirstLayerWeights(Tensor<float> weight, string path, int maxUnits = 64)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"Expected a (units, inputs) weight, not {weight.Shape}.", nameof(weight));
        int side = SquareSide(weight.RowLength, nameof(weight));
        int units = Math.Min(weight.Rows, Math.Max(1, maxUnits));
        int columns = Math.Max(1, (int)Math.Ceiling(Math.Sqrt(units)));
        int rows = (units + columns - 1) / columns;
        const float scale = 3, pad = 8, labelHeight = 16, header = 64, footer = 56;
        float image = side * scale, tileWidth = image, tileHeight = image + labelHeight;
        string subtitle = (units == weight.Rows ? $"all {units} hidden units" : $"first {units} of {weight.Rows} hidden units")
            + $" · incoming weights as {side}×{side} images · each scaled to ±max|w|";
        float subtitleWidth;
        using (var measure = SkiaCanvas.Font(13)) subtitleWidth = measure.MeasureText(subtitle);
        int width = (int)Math.Ceiling(Math.Max(Math.Max(columns * (tileWidth + pad) + pad + 20, 560), subtitleWidth + 40));
        int height = (int)Math.Ceiling(header + rows * (tileHeight + pad) + footer);
        float left = (width - (columns * (tileWidth + pad) - pad)) / 2;
        ReadOnlySpan<SKColor> stops = [new(0x05, 0x30, 0x61), new(0x21, 0x66, 0xAC), new(0x92, 0xC5, 0xDE), SKColors.White,
            new(0xF4, 0xA5, 0x82), new(0xB2, 0x18, 0x2B), new(0x67, 0x00, 0x1F)];
        var palette = stops.ToArray();
        var data = weight.ReadOnlySpan.ToArray();
        int rowLength = weight.RowLength;

        SkiaCanvas.SavePng(path, width, height, canvas =>
        {
            using var titleFont = SkiaCanvas.Font(20, bold: true);
            using var subFont = SkiaCanvas.Font(13);
            using var labelFont = SkiaCanvas.Font(11);
            SkiaCanvas.TextCentered(canvas, "First-layer weights", width / 2f, 30, titleFont, SkiaCanvas.Ink);
            SkiaCanvas.TextCentered(canvas, subtitle, width / 2f, 52, subFont, SkiaCanvas.Muted);
            using var frame = SkiaCanvas.Stroke(SkiaCanvas.Frame, 1);
            for (int u = 0; u < units; u++)
            {
                int offset = u * rowLength;
                double max = 0;
                for (int p = 0; p < rowLength; p++)
                    if (float.IsFinite(data[offset + p])) max = Math.Max(max, Math.Abs(data[offset + p]));
                if (max == 0) max = 1;
                float x = left + (u % columns) * (tileWidth + pad), y = header + (u / columns) * (tileHeight + pad);
                var dest = SKRect.Create(x, y, image, image);
                SkiaCanvas.DrawPixels(canvas, side, p => SkiaCanvas.Interpolate(palette, 0.5 + 0.5 * data[offset + p] / max), dest);
                canvas.DrawRect(dest, frame);
                SkiaCanvas.TextCentered(canvas, u.ToString(Inv), x + image / 2, y + image + 12, labelFont, SkiaCanvas.Muted);
            }

            // Colour key.
            float keyWidth = Math.Min(320, width - 160), keyX = (width - keyWidth) / 2, keyY = height - footer + 14;
            for (int i = 0; i < (int)keyWidth; i++)
            {
                using var paint = SkiaCanvas.Fill(SkiaCanvas.Interpolate(palette, i / (keyWidth - 1)));
                canvas.DrawRect(keyX + i, keyY, 1.5f, 12, paint);
            }
            canvas.DrawRect(SKRect.Create(keyX, keyY, keyWidth, 12), frame);
            SkiaCanvas.TextCentered(canvas, "−max|w|", keyX, keyY + 28, subFont, SkiaCanvas.Muted);
            SkiaCanvas.TextCentered(canvas, "0", keyX + keyWidth / 2, keyY + 28, subFont, SkiaCanvas.Muted);
            SkiaCanvas.TextCentered(canvas, "+max|w|", keyX + keyWidth, keyY + 28, subFont, SkiaCanvas.Muted);
        });
    }

    // ───────────────────────────── shared ─────────────────────────────

    private static int SquareSide(int length, string parameter)
    {
        int side = (int)Math.Round(Math.Sqrt(length));
        if (side < 1 || side * side != length)
            throw new ArgumentException($"Each row must hold a square image (e.g. 784 = 28×28 values), not {length} values.", parameter);
        return side;
    }

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(SkiaCanvas.FontFamily);
        return plot;
    }

    internal static void EnsureFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        EnsureFolder(path);
        plot.SavePng(path, width, height);
    }
}
