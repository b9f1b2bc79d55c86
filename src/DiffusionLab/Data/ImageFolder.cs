using DiffusionLab.Imaging;
using SkiaSharp;

namespace DiffusionLab.Data;

/// <summary>
/// A folder of images with one sub-folder per class (torchvision's ImageFolder; the AFHQ / StanfordCars layout).
/// When the folder has <c>train/</c> and <c>val/</c> (or <c>test/</c>) sub-folders, those are the splits; otherwise
/// every tenth image of each class (in file-name order) is held out. Images are centre-cropped to a square and
/// resized to the requested size (Ho et al. 2020 preprocess their datasets the same way).
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"];

    public static ImageDataset Load(string root, string split, int size, int channels = 3)
    {
        if (!Directory.Exists(root)) throw new DiffusionLabException($"image folder not found: {root}");
        if (split is not ("train" or "heldout")) throw new DiffusionLabException($"unknown split '{split}' (train or heldout)");
        string? splitDir = null;
        if (Directory.Exists(Path.Combine(root, "train")))
        {
            splitDir = split == "train" ? Path.Combine(root, "train")
                : new[] { "val", "test", "heldout" }.Select(d => Path.Combine(root, d)).FirstOrDefault(Directory.Exists)
                  ?? throw new DiffusionLabException($"{root} has train/ but no val/ or test/ folder for the held-out split");
        }
        var classDirs = Directory.GetDirectories(splitDir ?? root).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        if (classDirs.Length == 0)
            throw new DiffusionLabException($"{splitDir ?? root} has no class sub-folders (expected one folder per class, e.g. cat/, dog/)");
        var files = new List<(string Path, int Label)>();
        for (int c = 0; c < classDirs.Length; c++)
        {
            var images = Directory.GetFiles(classDirs[c]).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray();
            for (int i = 0; i < images.Length; i++)
            {
                bool heldout = splitDir is null && i % 10 == 9;
                if (splitDir is not null || heldout == (split == "heldout")) files.Add((images[i], c));
            }
        }
        if (files.Count == 0) throw new DiffusionLabException($"no images ({string.Join(", ", Extensions)}) for the {split} split in {root}");
        int bytesPer = channels * size * size;
        var pixels = new byte[files.Count * bytesPer];
        ParallelLoop.For(0, files.Count, i =>
        {
            using var bitmap = ImageTensor.Decode(files[i].Path);
            using var square = ImageTensor.CenterCropResize(bitmap, size);
            ImageTensor.CopyBytes(square, channels, pixels.AsSpan(i * bytesPer, bytesPer));
        });
        return new ImageDataset($"folder:{root}", pixels, files.Select(f => f.Label).ToArray(), channels, size, size,
            classDirs.Select(Path.GetFileName).Select(n => n!).ToArray());
    }
}
