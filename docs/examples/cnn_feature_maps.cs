// What a CNN sees: one MNIST test digit, then the 16 feature maps after the first conv–BatchNorm–ReLU block and the 32
// after the second, of a trained `nn train --model cnn --fast` checkpoint, written as a grayscale PNG (brighter = larger
// activation, each map scaled to its own maximum). PNG written by hand (zlib from the BCL) to stay dependency-free.
// Run from the repository root:
//   dotnet run docs/examples/cnn_feature_maps.cs -- outputs/checkpoints/best_model.npz docs/figures/cnn_feature_maps.png [test index]
// with the data in $NN_DATA/mnist.
#:project ../../src/NeuralNet/NeuralNet.csproj
using System.Buffers.Binary;
using System.IO.Compression;
using NeuralNet.Activations;
using NeuralNet.Checkpoints;
using NeuralNet.Data;
using NeuralNet.Modules;
using NeuralNet.Tensors;

if (args.Length < 2) { Console.Error.WriteLine("usage: cnn_feature_maps.cs CHECKPOINT OUTPUT.png [TEST_INDEX]"); return 2; }
string folder = Path.Combine(Environment.GetEnvironmentVariable("NN_DATA") ?? "data", "mnist");
int index = args.Length > 2 ? int.Parse(args[2]) : 0;
var model = (Sequential<float>)Checkpoint.Load<float>(args[0]);
model.Eval();
var test = Mnist.Load(folder, train: false, flatten: false);
var x = test.Features.RowRange(index, 1).Clone();   // (1, 1, 28, 28)

// Run module by module, keeping the output of each ReLU inside the convolutional part.
var maps = new List<Tensor<float>> { x };
var y = x;
foreach (var m in model.Modules)
{
    if (m is NeuralNet.Layers.Flatten<float>) break;
    y = m.Forward(y);
    if (m is ReLU<float>) maps.Add(y.Clone());
}
var logits = model.Forward(x);
int predicted = NeuralNet.Training.Trainer.ArgMax<float>(logits.ReadOnlySpan);
Console.WriteLine($"test image {index}: label {test.Labels[index]}, predicted {predicted}; maps " + string.Join(", ", maps.Select(t => t.Shape.ToString())));

// Layout: the digit, then each block's maps in rows of 16; every map is drawn 96 pixels wide.
const int Cell = 96, Gap = 8, PerRow = 16;
int rows = maps.Sum(t => (t.Shape[1] + PerRow - 1) / PerRow);
int width = PerRow * (Cell + Gap) + Gap, height = rows * (Cell + Gap) + Gap + 2 * Gap * (maps.Count - 1);
var pixels = new byte[width * height];
Array.Fill(pixels, (byte)255);
int top = Gap;
foreach (var t in maps)
{
    int channels = t.Shape[1], h = t.Shape[2], w = t.Shape[3];
    for (int c = 0; c < channels; c++)
    {
        var plane = t.ReadOnlySpan.Slice(c * h * w, h * w);
        float max = 0;
        foreach (float v in plane) max = Math.Max(max, v);
        int left = Gap + c % PerRow * (Cell + Gap), rowTop = top + c / PerRow * (Cell + Gap);
        for (int py = 0; py < Cell; py++)
            for (int px = 0; px < Cell; px++)
            {
                float v = plane[py * h / Cell * w + px * w / Cell];
                pixels[(rowTop + py) * width + left + px] = (byte)(255 - (max > 0 ? Math.Clamp(v / max, 0, 1) * 255 : 0));
            }
    }
    top += (channels + PerRow - 1) / PerRow * (Cell + Gap) + 2 * Gap;
}
WritePng(args[1], pixels, width, height);
Console.WriteLine($"wrote {args[1]} ({width}×{height}; dark = large activation)");
return 0;

// A grayscale 8-bit PNG: signature, IHDR, one zlib IDAT of rows each led by filter byte 0, IEND; each chunk with its CRC-32.
static void WritePng(string path, byte[] gray, int width, int height)
{
    using var file = File.Create(path);
    file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    var header = new byte[13];
    BinaryPrimitives.WriteInt32BigEndian(header, width);
    BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
    header[8] = 8; // bit depth; color type 0 (gray), compression, filter, interlace all 0
    Chunk(file, "IHDR", header);
    var raw = new MemoryStream();
    using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        for (int r = 0; r < height; r++) { z.WriteByte(0); z.Write(gray, r * width, width); }
    Chunk(file, "IDAT", raw.ToArray());
    Chunk(file, "IEND", []);
}

static void Chunk(Stream s, string type, byte[] data)
{
    var buffer = new byte[4];
    BinaryPrimitives.WriteInt32BigEndian(buffer, data.Length);
    s.Write(buffer);
    byte[] body = [.. type.Select(ch => (byte)ch), .. data];
    s.Write(body);
    uint crc = 0xFFFFFFFF;
    foreach (byte b in body)
    {
        crc ^= b;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
    }
    BinaryPrimitives.WriteUInt32BigEndian(buffer, ~crc);
    s.Write(buffer);
}
