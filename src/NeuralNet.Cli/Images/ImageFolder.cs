using System.Globalization;
using NeuralNet.Data;
using NeuralNet.Tensors;

namespace NeuralNet.Cli.Images;

/// <summary>
/// A folder of pictures with one subfolder per class (torchvision's ImageFolder convention): the classes are the
/// subfolder names in sorted (ordinal) order, the pictures any file in them SkiaSharp decodes (PNG, JPEG, BMP, …).
/// Files that cannot be read are listed and skipped.
/// </summary>
internal sealed class ImageFolder
{
    private ImageFolder(string root, string[] classes, List<(string File, int Label)> files, List<string> unreadable, Dictionary<(int, int), int> sizes)
    {
        Root = root;
        Classes = classes;
        Files = files;
        Unreadable = unreadable;
        Sizes = sizes;
    }

    public string Root { get; }

    public string[] Classes { get; }

    /// <summary>Every readable picture and its class index, in class order, then file-name order.</summary>
    public List<(string File, int Label)> Files { get; }

    /// <summary>Files SkiaSharp could not read (skipped).</summary>
    public List<string> Unreadable { get; }

    /// <summary>How many pictures have each (width, height).</summary>
    public Dictionary<(int Width, int Height), int> Sizes { get; }

    /// <summary>The most common size (the smallest area first on ties).</summary>
    public (int Width, int Height) CommonSize => Sizes.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Width * kv.Key.Height).First().Key;

    /// <summary>Scans <paramref name="root"/>; <paramref name="classes"/>, when given, fixes the class order (a model's), and a folder outside it is an error.</summary>
    public static ImageFolder Scan(string root, IReadOnlyList<string>? classes = null)
    {
        if (!Directory.Exists(root)) throw new CliException($"--images {root}: folder not found", 1);
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (folders.Length == 0) throw new CliException($"--images {root}: no subfolders; put the pictures of each class in a subfolder named for it (e.g. {root}/cat/1.png, {root}/dog/2.png)", 1);
        string[] names = classes?.ToArray() ?? folders;
        foreach (string f in folders)
            if (!names.Contains(f)) throw new CliException($"--images {root}: folder '{f}' is not one of the model's classes ({string.Join(", ", names)})", 1);
        var files = new List<(string, int)>();
        var unreadable = new List<string>();
        var sizes = new Dictionary<(int, int), int>();
        foreach (string folder in folders)
        {
            int label = Array.IndexOf(names, folder);
            foreach (string file in Directory.GetFiles(Path.Combine(root, folder)).Order(StringComparer.Ordinal))
            {
                if (FolderImage.PeekSize(file) is not { } size)
                {
                    unreadable.Add(file);
                    continue;
                }
                files.Add((file, label));
                sizes[size] = sizes.GetValueOrDefault(size) + 1;
            }
        }
        if (files.Count == 0) throw new CliException($"--images {root}: no readable pictures in its {folders.Length} subfolders", 1);
        return new ImageFolder(root, names, files, unreadable, sizes);
    }

    /// <summary>The pictures at <paramref name="indices"/> of <see cref="Files"/> as a data set (N, C, H, W) of values in [0, 1].</summary>
    public Dataset<float> Load(IReadOnlyList<int> indices, ImagePreprocessingInfo info)
    {
        var x = new Tensor<float>(indices.Count, info.Channels, info.Height, info.Width);
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            var (file, label) = Files[indices[i]];
            FolderImage.Read(file, info.Width, info.Height).Channels(info.Channels).CopyTo(x.Row(i));
            labels[i] = label;
        }
        return new Dataset<float>(x, labels, Classes.Length, Classes);
    }

    /// <summary>True when any of the pictures has colour (decoded at <paramref name="width"/>×<paramref name="height"/>).</summary>
    public bool AnyColour(int width, int height) => Files.Any(f => FolderImage.Read(f.File, width, height).HasColour);

    /// <summary>"N or WxH" → (width, height).</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1 && v <= 4096))
        {
            int w = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (w, parts.Length == 1 ? w : int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        throw new CliException($"--image-size '{text}' must be N or WxH (pixels, 1 to 4096), e.g. 32 or 64x48");
    }
}
