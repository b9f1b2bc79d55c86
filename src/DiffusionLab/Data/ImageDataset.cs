using System.Text;

namespace DiffusionLab.Data;

/// <summary>
/// A labelled image dataset held as 8-bit pixels ([N, C, H, W], row-major) so 60,000 digits or a folder of RGB
/// pictures fit in memory; batches are converted to float in [−1, 1] on demand (Ho et al. 2020, §4 data scaling).
/// </summary>
public sealed class ImageDataset
{
    private const string Magic = "DIFFLAB-DATA-1";
    private const string CaptionsMagic = "DIFFLAB-CAPTIONS-1";

    public ImageDataset(string name, byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames,
        IReadOnlyList<string[]>? captions = null)
    {
        if (channels is not (1 or 3)) throw new DiffusionLabException($"images must have 1 or 3 channels, got {channels}");
        if (labels.Length == 0) throw new DiffusionLabException($"dataset {name} has no images");
        if (pixels.LongLength != (long)labels.Length * channels * height * width)
            throw new DiffusionLabException($"dataset {name}: {pixels.LongLength} pixel bytes do not make {labels.Length} images of {channels}×{height}×{width}");
        if (labels.Any(l => l < 0 || l >= classNames.Count))
            throw new DiffusionLabException($"dataset {name}: a label is outside 0..{classNames.Count - 1}");
        if (captions is not null && (captions.Count != labels.Length || captions.Any(c => c.Length == 0 || c.Any(string.IsNullOrWhiteSpace))))
            throw new DiffusionLabException($"dataset {name}: captions must be one non-empty list per image ({captions.Count} lists for {labels.Length} images)");
        Name = name;
        Pixels = pixels;
        Captions = captions;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    public string Name { get; }
    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>
    /// For a captioned data set (emoji): each image's captions, the first the plain one and the others variants a text
    /// model may be trained on too; null where the data set has none.
    /// </summary>
    public IReadOnlyList<string[]>? Captions { get; }
    public int Count => Labels.Length;
    public int NumClasses => ClassNames.Count;
    public int ImageBytes => Channels * Height * Width;

    /// <summary>Images <paramref name="indices"/> as float32 [B, C, H, W] in [−1, 1], and their labels [B] (int64).</summary>
    public (Tensor Images, Tensor Labels) Batch(IReadOnlyList<int> indices, Device? device = null)
    {
        var bytes = new byte[indices.Count * ImageBytes];
        var labels = new long[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Buffer.BlockCopy(Pixels, indices[i] * ImageBytes, bytes, i * ImageBytes, ImageBytes);
            labels[i] = Labels[indices[i]];
        }
        using var scope = torch.NewDisposeScope();
        var images = Imaging.ImageTensor.FromBytes(bytes, [indices.Count, Channels, Height, Width]);
        var l = torch.tensor(labels);
        if (device is not null) { images = images.to(device); l = l.to(device); }
        return (images.MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope());
    }

    /// <summary>The first <paramref name="n"/> images (or all), as a batch.</summary>
    public (Tensor Images, Tensor Labels) Take(int n, Device? device = null) =>
        Batch(Enumerable.Range(0, Math.Min(n, Count)).ToArray(), device);

    /// <summary>The subset at <paramref name="indices"/>.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        var pixels = new byte[indices.Count * ImageBytes];
        for (int i = 0; i < indices.Count; i++) Buffer.BlockCopy(Pixels, indices[i] * ImageBytes, pixels, i * ImageBytes, ImageBytes);
        return new ImageDataset(name ?? Name, pixels, indices.Select(i => Labels[i]).ToArray(), Channels, Height, Width, ClassNames,
            Captions is null ? null : indices.Select(i => Captions[i]).ToArray());
    }

    /// <summary>Writes the compact cache format (atomically): a header, class names, labels, pixels, and the captions where
    /// there are any (after the pixels, so files written before captions existed still read).</summary>
    public void Save(string path)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(Name);
            w.Write(Count); w.Write(Channels); w.Write(Height); w.Write(Width);
            w.Write(ClassNames.Count);
            foreach (var c in ClassNames) w.Write(c);
            foreach (var l in Labels) w.Write(l);
            w.Write(Pixels);
            if (Captions is null) return;
            w.Write(CaptionsMagic);
            foreach (var variants in Captions)
            {
                w.Write(variants.Length);
                foreach (var c in variants) w.Write(c);
            }
        });
    }

    public static ImageDataset Load(string path)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"dataset file not found: {path}");
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadString() != Magic) throw new DiffusionLabException($"{path} is not a DiffusionLab dataset cache");
            var name = r.ReadString();
            int n = r.ReadInt32(), c = r.ReadInt32(), h = r.ReadInt32(), w = r.ReadInt32();
            int k = r.ReadInt32();
            if (n < 0 || k < 1 || k > 100_000 || c < 1 || h < 1 || w < 1) throw new DiffusionLabException($"{path} has a corrupt header");
            var names = Enumerable.Range(0, k).Select(_ => r.ReadString()).ToArray();
            var labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = r.ReadInt32();
            var pixels = r.ReadBytes(checked(n * c * h * w));
            if (pixels.Length != n * c * h * w) throw new DiffusionLabException($"{path} is truncated");
            string[][]? captions = null;
            if (r.BaseStream.Position < r.BaseStream.Length)
            {
                if (r.ReadString() != CaptionsMagic) throw new DiffusionLabException($"{path} has unknown data after its images");
                captions = new string[n][];
                for (int i = 0; i < n; i++)
                {
                    int m = r.ReadInt32();
                    if (m < 1 || m > 64) throw new DiffusionLabException($"{path} has a corrupt caption list");
                    captions[i] = Enumerable.Range(0, m).Select(_ => r.ReadString()).ToArray();
                }
            }
            return new ImageDataset(name, pixels, labels, c, h, w, names, captions);
        }
        catch (EndOfStreamException)
        {
            throw new DiffusionLabException($"{path} is truncated or not a DiffusionLab dataset cache");
        }
    }
}
