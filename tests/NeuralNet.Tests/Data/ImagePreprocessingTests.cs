using NeuralNet.Data;
using SkiaSharp;

namespace NeuralNet.Tests.Data;

/// <summary>Pictures drawn at other sizes and polarities, measured after <see cref="ImagePreprocessing"/>.</summary>
public class ImagePreprocessingTests
{
    /// <summary>A thick, slightly slanted "1" in the left part of a 300×200 picture.</summary>
    private static SKBitmap One(SKColor ink, SKColor paper) =>
        Pictures.Draw(300, 200, paper, c => { using var pen = Pictures.Pen(ink, 16); c.DrawLine(60, 30, 78, 165, pen); });

    /// <summary>A "0": an upright elliptical ring off to the right of a 200×300 picture.</summary>
    private static SKBitmap Zero(SKColor ink, SKColor paper) =>
        Pictures.Draw(200, 300, paper, c => { using var pen = Pictures.Pen(ink, 14); c.DrawOval(130, 110, 40, 75, pen); });

    [Fact]
    public void A_dark_one_off_centre_on_white_becomes_a_light_stroke_20_pixels_tall_centred_by_mass()
    {
        using var picture = One(SKColors.Black, SKColors.White);
        float[] x = ImagePreprocessing.MnistDigit(Pictures.Grey(picture), 300, 200);

        Assert.Equal(28 * 28, x.Length);
        var box = Pictures.InkBox(x);
        Assert.Equal(20, box.Height);            // the longer side
        Assert.InRange(box.Width, 3, 8);          // a slim stroke keeps its proportions: about 34×151 px → 4.5×20
        var (cx, cy) = Pictures.CentreOfMass(x);
        Assert.InRange(cx, 13.5, 14.5);
        Assert.InRange(cy, 13.5, 14.5);
        Assert.Equal(0f, x[0]);                   // background 0, ink bright: MNIST's polarity
        Assert.True(x.Max() > 0.95f, $"the stroke's core is {x.Max()}, not ink");
    }

    [Fact]
    public void A_light_zero_on_dark_keeps_light_on_dark_with_its_hollow_centre_and_matches_the_dark_on_light_one()
    {
        using var light = Zero(SKColors.White, SKColors.Black);
        using var dark = Zero(new SKColor(20, 20, 60), new SKColor(235, 230, 220)); // dark blue ink on off-white paper
        float[] x = ImagePreprocessing.MnistDigit(Pictures.Grey(light), 200, 300);
        float[] y = ImagePreprocessing.MnistDigit(Pictures.Grey(dark), 200, 300);

        Assert.False(ImagePreprocessing.IsDarkOnLight(Pictures.Grey(light), 200, 300));
        Assert.True(ImagePreprocessing.IsDarkOnLight(Pictures.Grey(dark), 200, 300));
        var box = Pictures.InkBox(x);
        Assert.Equal(20, box.Height);
        Assert.InRange(box.Width, 10, 12);        // 54×89 px → 12.1×20
        Assert.True(x[14 * 28 + 14] < 0.05f, $"the centre of the 0 is {x[14 * 28 + 14]}, not hollow");
        Assert.True(x[14 * 28 + box.X] + x[14 * 28 + box.X + 1] > 1, "the ring's left side is not bright");
        Assert.Equal(0f, x[27 * 28 + 27]);
        var (cx, cy) = Pictures.CentreOfMass(x);
        Assert.InRange(cx, 13.5, 14.5);
        Assert.InRange(cy, 13.5, 14.5);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) < 0.1f, $"pixel {i}: {x[i]} light on dark, {y[i]} dark on light");
    }

    [Fact]
    public void A_top_heavy_shape_is_placed_by_its_centre_of_mass_not_by_its_box()
    {
        // A "9"-like shape: a filled disc on a thin stem; its mass sits high in its box.
        using var nine = Pictures.Draw(240, 320, SKColors.White, c =>
        {
            using var fill = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            c.DrawCircle(120, 90, 32, fill);
            using var pen = Pictures.Pen(SKColors.Black, 12);
            c.DrawLine(150, 100, 146, 280, pen);
        });
        float[] x = ImagePreprocessing.MnistDigit(Pictures.Grey(nine), 240, 320);
        var (cx, cy) = Pictures.CentreOfMass(x);
        Assert.InRange(cx, 13.5, 14.5);
        Assert.InRange(cy, 13.5, 14.5);
        var box = Pictures.InkBox(x);
        Assert.Equal(20, box.Height);
        Assert.True(box.Y + box.Height / 2.0 > 16, $"the box {box} is centred like the mass; the test shape is not top-heavy enough");
    }

    [Fact]
    public void A_wide_bar_keeps_its_aspect_ratio()
    {
        using var bar = Pictures.Draw(400, 300, SKColors.White, c => c.DrawRect(90, 200, 200, 40, new SKPaint { Color = SKColors.Black }));
        var box = Pictures.InkBox(ImagePreprocessing.MnistDigit(Pictures.Grey(bar), 400, 300));
        Assert.Equal((20, 4), (box.Width, box.Height));
    }

    [Fact]
    public void Paper_grain_and_a_grey_background_do_not_count_as_ink()
    {
        var rng = new NeuralNet.Tensors.Rng(3);
        using var one = One(new SKColor(40, 40, 40), new SKColor(200, 200, 200));
        float[] grey = Pictures.Grey(one);
        for (int i = 0; i < grey.Length; i++) grey[i] = Math.Clamp(grey[i] + (float)rng.NextDouble(-0.04, 0.04), 0, 1);
        float[] x = ImagePreprocessing.MnistDigit(grey, 300, 200);
        Assert.Equal(20, Pictures.InkBox(x).Height);
        Assert.InRange(Pictures.InkBox(x).Width, 3, 8);
        Assert.True(x.Max() > 0.9f);
    }

    [Fact]
    public void A_fashion_item_is_trimmed_fitted_into_28_centred_and_negated()
    {
        // A mid-grey 100×200 "dress" on a white photo
        using var photo = Pictures.Draw(300, 300, SKColors.White, c => c.DrawRect(40, 60, 100, 200, new SKPaint { Color = new SKColor(77, 77, 77) }));
        float[] x = ImagePreprocessing.FashionItem(Pictures.Grey(photo), 300, 300);
        var box = Pictures.InkBox(x);
        Assert.Equal((7, 0, 14, 28), box);        // 28 tall, 14 wide, centred (7 + 14 + 7)
        Assert.Equal(1 - 77 / 255f, x[14 * 28 + 14], 3); // negated, its grey kept: light on dark
        Assert.Equal(0f, x[14 * 28 + 3]);
    }

    // Real data: CI sets NN_DATA. A test image negated into a dark-on-white picture and prepared again must come back as
    // it was: the conventions (centre of mass at pixel 14, Fashion-MNIST's odd pixel of slack first) are the data sets' own.
    [Theory]
    [InlineData("mnist", 0.95)]
    [InlineData("fashion-mnist", 0.85)]
    public void Test_images_as_dark_on_white_pictures_are_prepared_back_into_themselves(string dataset, double share)
    {
        string? root = Environment.GetEnvironmentVariable("NN_DATA");
        if (string.IsNullOrEmpty(root) || !Directory.Exists(Path.Combine(root, dataset))) return;
        var test = Mnist.Load(Path.Combine(root, dataset), train: false, dataset: dataset).Take(2000);
        int same = 0;
        for (int i = 0; i < test.Count; i++)
        {
            float[] x = test.Features.Row(i).ToArray();
            float[] picture = x.Select(v => 1 - v).ToArray();
            float[] back = dataset == "mnist" ? ImagePreprocessing.MnistDigit(picture, 28, 28) : ImagePreprocessing.FashionItem(picture, 28, 28);
            if (x.Zip(back).Average(t => Math.Abs(t.First - t.Second)) < 0.01) same++;
        }
        Assert.True(same >= share * test.Count, $"{same} of {test.Count} {dataset} test images came back unchanged");
    }

    [Fact]
    public void Area_averaging_weighs_each_source_pixel_by_the_share_it_covers()
    {
        // 3 → 2: cell 0 covers [0, 1.5): (0·1 + 3·0.5)/1.5 = 1; cell 1 covers [1.5, 3): (3·0.5 + 6·1)/1.5 = 5
        Assert.Equal([1f, 5f], ImagePreprocessing.Resize([0f, 3f, 6f], 3, 1, 2, 1));
        // 4×2 → 2×1: means of 2×2 blocks
        Assert.Equal([2.5f, 5.5f], ImagePreprocessing.Resize([1f, 2f, 5f, 6f, 3f, 4f, 5f, 6f], 4, 2, 2, 1));
        Assert.Equal(Enumerable.Repeat(0.25f, 9), ImagePreprocessing.Resize([0.25f], 1, 1, 3, 3));
        // the total ink is kept: mean in = mean out
        var rng = new NeuralNet.Tensors.Rng(1);
        float[] noise = Enumerable.Range(0, 37 * 23).Select(_ => (float)rng.NextDouble()).ToArray();
        Assert.Equal(noise.Average(), ImagePreprocessing.Resize(noise, 37, 23, 11, 7).Average(), 4);
    }

    [Fact]
    public void A_blank_picture_and_wrong_sizes_are_refused_with_the_reason()
    {
        var blank = Enumerable.Repeat(0.8f, 50 * 40).ToArray();
        Assert.Contains("uniform", Assert.Throws<ArgumentException>(() => ImagePreprocessing.MnistDigit(blank, 50, 40)).Message);
        Assert.Contains("uniform", Assert.Throws<ArgumentException>(() => ImagePreprocessing.FashionItem(blank, 50, 40)).Message);
        Assert.Contains("50×41", Assert.Throws<ArgumentException>(() => ImagePreprocessing.MnistDigit(blank, 50, 41)).Message);
    }
}
