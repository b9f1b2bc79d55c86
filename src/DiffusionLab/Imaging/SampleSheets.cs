using System.Globalization;

namespace DiffusionLab.Imaging;

/// <summary>How sampled and edited images are written: one PNG per image named by index (and class), a grid with one row
/// per class, and a GIF of a batch's trajectory from noise to images.</summary>
public static class SampleSheets
{
    /// <summary>One PNG per image, <c>NNNNN.png</c> or <c>NNNNN-classC.png</c> (the class 'eval accuracy' reads back).</summary>
    public static List<string> SaveImages(Tensor images, string dir, int[]? labels, int first = 0)
    {
        var files = new List<string>();
        for (int i = 0; i < images.shape[0]; i++)
        {
            int index = first + i;
            var path = Path.Combine(dir, labels is null ? $"{index:D5}.png" : $"{index:D5}-class{labels[i]}.png");
            ImageTensor.SavePng(images[i], path);
            files.Add(path);
        }
        return files;
    }

    /// <summary>A grid with one row per class (in label order, at most 16 per row), or square rows for unconditional samples.</summary>
    public static void WriteGrid(string path, Tensor images, int[]? labels, IReadOnlyList<string> classNames)
    {
        using var grid = Grid(images, labels, classNames);
        ImageTensor.SavePng(grid, path);
    }

    private static SkiaSharp.SKBitmap Grid(Tensor images, int[]? labels, IReadOnlyList<string> classNames)
    {
        using var scope = torch.NewDisposeScope();
        var rows = new List<Tensor>();
        var names = new List<string>();
        if (labels is not null)
            foreach (var c in labels.Distinct())
            {
                var idx = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Take(16).Select(i => (long)i).ToArray();
                rows.Add(images.index_select(0, torch.tensor(idx, device: images.device)));
                names.Add(c < classNames.Count ? classNames[c] : c.ToString(CultureInfo.InvariantCulture));
            }
        else
        {
            int cols = (int)Math.Ceiling(Math.Sqrt(images.shape[0]));
            for (long s = 0; s < images.shape[0]; s += cols) rows.Add(images[(int)s..(int)Math.Min(s + cols, images.shape[0])]);
        }
        return ImageGrid.ComposeTensors(rows, labels is null ? null : names);
    }

    /// <summary>A GIF of at most 40 evenly spaced states of the first batch (its first 40 images), each drawn as a grid.</summary>
    public static void WriteGif(string path, List<Tensor> frames, int[]? labels, IReadOnlyList<string> classNames)
    {
        var picks = Enumerable.Range(0, 40).Select(k => (int)Math.Round((double)k * (frames.Count - 1) / 39)).Distinct();
        var pngs = picks.Select(i =>
        {
            int count = (int)Math.Min(frames[i].shape[0], 40);
            using var grid = Grid(frames[i][..count], labels?[..count], classNames);
            return ImageTensor.EncodePng(grid);
        }).ToList();
        AnimatedGif.Write(path, pngs);
    }
}
