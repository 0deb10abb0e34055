using NeuralNet.Tensors;

namespace NeuralNet.Data;

/// <summary>
/// Loads MNIST (LeCun, Cortes, Burges) and Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from a folder holding the
/// four IDX files <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and
/// <c>t10k-labels-idx1-ubyte</c>, each either as is or with <c>.gz</c> appended.
/// Pixels become float32 in [0, 1] (p/255), kept as bytes and divided batch by batch; labels are the class indices 0–9.
/// The nn tool finds or downloads such a folder; this library only reads it.
/// </summary>
public static class Mnist
{
    /// <summary>The data sets this class knows: <c>mnist</c> and <c>fashion-mnist</c>.</summary>
    public static IReadOnlyList<string> KnownDatasets { get; } = ["mnist", "fashion-mnist"];

    /// <summary>The four IDX file names, without <c>.gz</c>: train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Fashion-MNIST's class names, by label 0–9.</summary>
    public static IReadOnlyList<string> FashionClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's class names, "0" to "9".</summary>
    public static IReadOnlyList<string> DigitClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private const int NumClasses = 10;

    /// <summary>
    /// Loads the training (60,000 samples) or test (10,000 samples) split from <paramref name="folder"/>.
    /// Samples are (rows·cols) when <paramref name="flatten"/>, else (1, rows, cols); x = pixel/255. The set keeps the
    /// pixels as bytes (<see cref="Dataset{T}.StoredAsBytes"/>): batches divide them as they are made.
    /// </summary>
    /// <param name="folder">The data set's own folder, e.g. <c>$NN_DATA/mnist</c> (the nn tool locates or fetches it).</param>
    /// <param name="train">The training files (<c>train-*</c>) rather than the test files (<c>t10k-*</c>).</param>
    /// <param name="flatten">(N, 784) for fully connected models rather than (N, 1, 28, 28) for convolutions.</param>
    /// <param name="dataset"><c>mnist</c> (class names "0".."9") or <c>fashion-mnist</c> (<see cref="FashionClassNames"/>).</param>
    /// <exception cref="FileNotFoundException">A file is missing under both of its names.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or the image and label counts differ.</exception>
    public static Dataset<float> Load(string folder, bool train, bool flatten = true, string dataset = "mnist")
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        IReadOnlyList<string> classNames = ClassNamesOf(dataset);
        string prefix = train ? "train" : "t10k";
        string imagesPath = FindFile(folder, $"{prefix}-images-idx3-ubyte", dataset);
        string labelsPath = FindFile(folder, $"{prefix}-labels-idx1-ubyte", dataset);

        IdxImages images = Idx.ReadImages(imagesPath);
        byte[] labelBytes = Idx.ReadLabels(labelsPath);
        if (images.Count != labelBytes.Length)
            throw new InvalidDataException(
                $"{dataset} {(train ? "train" : "test")}: {imagesPath} holds {images.Count} images but {labelsPath} holds {labelBytes.Length} labels; the counts must match.");

        var labels = new int[labelBytes.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labelBytes[i] >= NumClasses)
                throw new InvalidDataException($"{labelsPath}: label {labelBytes[i]} of sample {i} is outside [0, {NumClasses}).");
            labels[i] = labelBytes[i];
        }

        // Kept as bytes, x = p/255 computed per batch: 47 MB for the training images rather than 188 MB of floats.
        int[] sampleShape = flatten ? [images.ImageSize] : [1, images.Rows, images.Cols];
        return new Dataset<float>(images.Pixels, sampleShape, 255f, labels, NumClasses, classNames);
    }

    /// <summary>
    /// The usual three-way split: the training files minus a seeded validation carve-out of
    /// round(<paramref name="validationFraction"/>·60000) samples (<see cref="Dataset{T}.Split"/>), and the test files.
    /// </summary>
    public static (Dataset<float> Train, Dataset<float> Validation, Dataset<float> Test) LoadSplits(
        string folder, string dataset, double validationFraction = 0.1, ulong seed = 42, bool flatten = true)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Mnist.LoadSplits: the validation fraction must be in [0, 1).");
        Dataset<float> all = Load(folder, train: true, flatten, dataset);
        (Dataset<float> train, Dataset<float> validation) = all.SplitInPlace(validationFraction, seed); // views: no second copy
        return (train, validation, Load(folder, train: false, flatten, dataset));
    }

    /// <summary>"0".."9" for <c>mnist</c>, <see cref="FashionClassNames"/> for <c>fashion-mnist</c>.</summary>
    public static IReadOnlyList<string> ClassNamesOf(string dataset) => dataset switch
    {
        "mnist" => DigitClassNames,
        "fashion-mnist" => FashionClassNames,
        _ => throw new ArgumentException($"Mnist: unknown data set '{dataset}'; known: {string.Join(", ", KnownDatasets)}.", nameof(dataset)),
    };

    /// <summary>
    /// The path of <paramref name="name"/> in <paramref name="folder"/>, as is or with <c>.gz</c>, or null when neither exists.
    /// The uncompressed name wins when both are there.
    /// </summary>
    public static string? TryFindFile(string folder, string name)
    {
        string raw = Path.Combine(folder, name);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    private static string FindFile(string folder, string name, string dataset) =>
        TryFindFile(folder, name) ?? throw new FileNotFoundException(
            $"{dataset}: neither {name} nor {name}.gz is in {Path.GetFullPath(folder)}. " +
            $"Point NN_DATA (or --data) at the folder holding {dataset}/, or let nn data fetch download it.",
            Path.Combine(folder, name + ".gz"));
}
