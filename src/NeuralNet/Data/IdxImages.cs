namespace NeuralNet.Data;

/// <summary>
/// The contents of an IDX image file: <see cref="Count"/> images of <see cref="Rows"/>×<see cref="Cols"/>
/// unsigned bytes, row-major, image after image: pixel (n, r, c) is <c>Pixels[(n·Rows + r)·Cols + c]</c>.
/// </summary>
/// <param name="Count">Number of images (first dimension).</param>
/// <param name="Rows">Height of one image (28 for MNIST).</param>
/// <param name="Cols">Width of one image (28 for MNIST).</param>
/// <param name="Pixels">Count·Rows·Cols bytes, 0 = background.</param>
public sealed record IdxImages(int Count, int Rows, int Cols, byte[] Pixels)
{
    /// <summary>Bytes per image: Rows·Cols.</summary>
    public int ImageSize => Rows * Cols;

    /// <summary>The pixels of image <paramref name="index"/> (Rows·Cols bytes, no copy).</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"IdxImages: image {index} is outside [0, {Count}).");
        return Pixels.AsSpan(index * ImageSize, ImageSize);
    }
}
