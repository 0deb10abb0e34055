using NeuralNet.Data;

namespace NeuralNet.Tests.Data;

/// <summary>A tiny MNIST-shaped folder (28×28 images, labels 0–9) written with <see cref="Idx"/>'s writers.</summary>
internal static class SyntheticMnist
{
    public const int Side = 28;

    /// <summary>Pixel <paramref name="index"/> of image <paramref name="image"/>: every byte value 0–255 occurs.</summary>
    public static byte Pixel(int image, int index) => (byte)((image * 37 + index * 11) % 256);

    public static byte Label(int image) => (byte)(image * 3 % 10);

    public static byte[] Pixels(int count)
    {
        var p = new byte[count * Side * Side];
        for (int n = 0; n < count; n++)
            for (int i = 0; i < Side * Side; i++) p[n * Side * Side + i] = Pixel(n, i);
        return p;
    }

    public static byte[] Labels(int count) => Enumerable.Range(0, count).Select(Label).ToArray();

    /// <summary>Writes the four files into <paramref name="folder"/>, named with .gz when <paramref name="gzip"/>.</summary>
    public static void Write(string folder, bool gzip, int trainCount = 20, int testCount = 10)
    {
        Directory.CreateDirectory(folder);
        string ext = gzip ? ".gz" : "";
        Idx.WriteImages(Path.Combine(folder, "train-images-idx3-ubyte" + ext), Pixels(trainCount), trainCount, Side, Side, gzip);
        Idx.WriteLabels(Path.Combine(folder, "train-labels-idx1-ubyte" + ext), Labels(trainCount), gzip);
        Idx.WriteImages(Path.Combine(folder, "t10k-images-idx3-ubyte" + ext), Pixels(testCount), testCount, Side, Side, gzip);
        Idx.WriteLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte" + ext), Labels(testCount), gzip);
    }
}
