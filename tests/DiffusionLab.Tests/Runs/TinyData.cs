using DiffusionLab.Data;
using SkiaSharp;

namespace DiffusionLab.Tests.Runs;

/// <summary>Small synthetic image datasets for fast tests.</summary>
internal static class TinyData
{
    /// <summary>n grayscale images of size×size; class c is a bright horizontal bar at row ~c, plus seeded noise.</summary>
    public static ImageDataset Bars(int n = 64, int size = 8, int classes = 4, int seed = 0)
    {
        var rng = new Random(seed);
        var pixels = new byte[n * size * size];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % classes;
            labels[i] = c;
            int row = c * size / classes;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    pixels[i * size * size + y * size + x] = (byte)Math.Clamp((y == row ? 230 : 20) + rng.Next(-15, 16), 0, 255);
        }
        return new ImageDataset("bars", pixels, labels, 1, size, size, Enumerable.Range(0, classes).Select(c => $"bar{c}").ToArray());
    }

    /// <summary>Writes a folder dataset: one sub-folder per colour class, PNGs of the given (possibly varying) sizes.</summary>
    public static string RgbFolder(int perClass = 10, int size = 20)
    {
        var root = Directory.CreateTempSubdirectory("difflab-folder").FullName;
        var colours = new Dictionary<string, SKColor> { ["red"] = SKColors.Red, ["blue"] = SKColors.Blue };
        foreach (var (name, colour) in colours)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
            for (int i = 0; i < perClass; i++)
            {
                using var bmp = new SKBitmap(size + i % 3, size, SKColorType.Rgba8888, SKAlphaType.Premul);
                using (var canvas = new SKCanvas(bmp))
                {
                    canvas.Clear(SKColors.White);
                    using var paint = new SKPaint { Color = colour };
                    canvas.DrawCircle(bmp.Width / 2f, size / 2f, size / 3f + i % 4, paint);
                }
                using var img = SKImage.FromBitmap(bmp);
                using var data = img.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(dir, $"{i:D3}.png"), data.ToArray());
            }
        }
        return root;
    }
}
