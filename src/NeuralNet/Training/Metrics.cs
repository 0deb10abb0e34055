using System.Globalization;
using System.Text;

namespace NeuralNet.Training;

/// <summary>Classification metrics: loss, accuracy, confusion matrix and per-class precision, recall and F1.</summary>
public sealed class Metrics
{
    /// <summary>Builds metrics from a confusion matrix (rows: true class, columns: predicted class).</summary>
    public Metrics(double loss, long[,] confusion)
    {
        Loss = loss;
        Confusion = confusion;
        int c = confusion.GetLength(0);
        Precision = new double[c];
        Recall = new double[c];
        F1 = new double[c];
        long correct = 0, total = 0;
        for (int i = 0; i < c; i++)
        {
            long tp = confusion[i, i], predicted = 0, actual = 0;
            for (int j = 0; j < c; j++)
            {
                predicted += confusion[j, i];
                actual += confusion[i, j];
            }
            correct += tp;
            total += actual;
            Precision[i] = predicted == 0 ? 0 : (double)tp / predicted;
            Recall[i] = actual == 0 ? 0 : (double)tp / actual;
            F1[i] = Precision[i] + Recall[i] == 0 ? 0 : 2 * Precision[i] * Recall[i] / (Precision[i] + Recall[i]);
        }
        Count = total;
        Accuracy = total == 0 ? 0 : (double)correct / total;
    }

    /// <summary>Mean loss over the samples.</summary>
    public double Loss { get; }

    /// <summary>Fraction of samples whose arg-max prediction equals the label, in [0, 1].</summary>
    public double Accuracy { get; }

    /// <summary>Number of samples.</summary>
    public long Count { get; }

    /// <summary>confusion[true, predicted] counts.</summary>
    public long[,] Confusion { get; }

    /// <summary>TP / (TP + FP) per class (0 when the class is never predicted).</summary>
    public double[] Precision { get; }

    /// <summary>TP / (TP + FN) per class.</summary>
    public double[] Recall { get; }

    /// <summary>Harmonic mean of precision and recall per class.</summary>
    public double[] F1 { get; }

    /// <summary>A markdown table of the per-class figures.</summary>
    public string PerClassTable(IReadOnlyList<string>? classNames = null)
    {
        var sb = new StringBuilder("| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < Precision.Length; i++)
        {
            long support = 0;
            for (int j = 0; j < Precision.Length; j++) support += Confusion[i, j];
            string name = classNames?[i] ?? i.ToString(CultureInfo.InvariantCulture);
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Precision[i]:F4} | {Recall[i]:F4} | {F1[i]:F4} | {support} |"));
        }
        return sb.ToString();
    }
}
