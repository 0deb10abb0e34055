using System.Numerics;
using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tensors;

// Convolution's data movement (unfold/fold) and pooling over NCHW images.
public static partial class TensorOps
{
    /// <summary>Ho (or Wo) = ⌊(size + 2·padding − kernel)/stride⌋ + 1, or a value &lt; 1 when the kernel does not fit.</summary>
    public static int ConvOutputSize(int size, int kernelSize, int stride, int padding) =>
        Im2Col.OutputSize(size, kernelSize, stride, padding);

    /// <summary>
    /// cols (C·k·k, Ho·Wo) = im2col(image), image one sample (C, H, W): cols[(c·k + i)·k + j, oh·Wo + ow] =
    /// image[c, oh·s − p + i, ow·s − p + j], 0 outside the image (PyTorch's <c>F.unfold</c>). Then a convolution is
    /// W (O, C·k·k) · cols.
    /// </summary>
    public static void Unfold<T>(ReadOnlySpan<T> image, int channels, int height, int width, int kernelSize, int stride, int padding, Span<T> cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckUnfold("Unfold", image.Length, cols.Length, channels, height, width, kernelSize, stride, padding);
        Im2Col.Unfold(image, channels, height, width, kernelSize, stride, padding, cols);
    }

    /// <summary>
    /// image += col2im(cols): every entry of cols (C·k·k, Ho·Wo) is added back to the pixel of image (C, H, W) it was
    /// copied from by <see cref="Unfold"/>, overlapping windows summing (PyTorch's <c>F.fold</c>): the adjoint of Unfold.
    /// </summary>
    public static void Fold<T>(ReadOnlySpan<T> cols, int channels, int height, int width, int kernelSize, int stride, int padding, Span<T> image)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckUnfold("Fold", image.Length, cols.Length, channels, height, width, kernelSize, stride, padding);
        Im2Col.Fold(cols, channels, height, width, kernelSize, stride, padding, image);
    }

    /// <summary>
    /// y[n,c,oh,ow] = max_{0≤i,j&lt;k} x[n, c, oh·s + i, ow·s + j]; <paramref name="argmax"/> (y's length) gets each winner's
    /// flat index within its (H, W) plane. x (N, C, H, W), y (N, C, Ho, Wo); no padding.
    /// </summary>
    public static void MaxPool2d<T>(Tensor<T> x, int kernelSize, int stride, Tensor<T> y, Span<int> argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPool("MaxPool2d", x, y, kernelSize, stride);
        PoolKernels.MaxPool2d(x.ReadOnlySpan, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], kernelSize, stride, y.Span, argmax);
    }

    /// <summary>dx = 0, then dx[n, c, a] += dy[n, c, oh, ow] at each output's arg-max a.</summary>
    public static void MaxPool2dBackward<T>(Tensor<T> dy, ReadOnlySpan<int> argmax, int kernelSize, int stride, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPool("MaxPool2dBackward", dx, dy, kernelSize, stride);
        PoolKernels.MaxPool2dBackward(dy.ReadOnlySpan, argmax, dx.Shape[0] * dx.Shape[1], dx.Shape[2], dx.Shape[3], kernelSize, stride, dx.Span);
    }

    /// <summary>y[n,c,oh,ow] = (1/k²)·Σ_{0≤i,j&lt;k} x[n, c, oh·s + i, ow·s + j]. x (N, C, H, W), y (N, C, Ho, Wo).</summary>
    public static void AvgPool2d<T>(Tensor<T> x, int kernelSize, int stride, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPool("AvgPool2d", x, y, kernelSize, stride);
        PoolKernels.AvgPool2d(x.ReadOnlySpan, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], kernelSize, stride, y.Span);
    }

    /// <summary>dx = 0, then dx[n, c, oh·s + i, ow·s + j] += dy[n, c, oh, ow] / k² for 0 ≤ i, j &lt; k.</summary>
    public static void AvgPool2dBackward<T>(Tensor<T> dy, int kernelSize, int stride, Tensor<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPool("AvgPool2dBackward", dx, dy, kernelSize, stride);
        PoolKernels.AvgPool2dBackward(dy.ReadOnlySpan, dx.Shape[0] * dx.Shape[1], dx.Shape[2], dx.Shape[3], kernelSize, stride, dx.Span);
    }

    private static void CheckUnfold(string operation, int imageLength, int colsLength, int channels, int height, int width, int kernelSize, int stride, int padding)
    {
        int oh = ConvOutputSize(height, kernelSize, stride, padding), ow = ConvOutputSize(width, kernelSize, stride, padding);
        if (channels < 1 || kernelSize < 1 || stride < 1 || padding < 0 || oh < 1 || ow < 1)
            throw new ArgumentException($"{operation}: a {kernelSize}×{kernelSize} kernel with stride {stride} and padding {padding} does not fit a ({channels}, {height}, {width}) image.");
        if (imageLength != channels * height * width || colsLength != channels * kernelSize * kernelSize * oh * ow)
            throw new ShapeMismatchException($"{operation}: image ({channels}, {height}, {width}) and cols ({channels * kernelSize * kernelSize}, {oh * ow}) need {channels * height * width} and {channels * kernelSize * kernelSize * oh * ow} elements, got {imageLength} and {colsLength}.");
    }

    private static void CheckPool<T>(string operation, Tensor<T> input, Tensor<T> output, int kernelSize, int stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (input.Rank != 4 || output.Rank != 4 || input.Shape[0] != output.Shape[0] || input.Shape[1] != output.Shape[1]
            || output.Shape[2] != ConvOutputSize(input.Shape[2], kernelSize, stride, 0) || output.Shape[3] != ConvOutputSize(input.Shape[3], kernelSize, stride, 0))
            throw new ShapeMismatchException($"{operation}: image {input.Shape} and pooled {output.Shape} do not fit a {kernelSize}×{kernelSize} window with stride {stride}; expected (N, C, H, W) and (N, C, (H − {kernelSize})/{stride} + 1, (W − {kernelSize})/{stride} + 1).");
    }
}
