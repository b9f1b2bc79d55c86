using System.Globalization;
using DiffusionLab.Data;
using DiffusionLab.Imaging;
using SkiaSharp;

namespace DiffusionLab.Evaluation;

/// <summary>A set of images to evaluate: [N, C, H, W] in [−1, 1], with labels when known.</summary>
public sealed record ImageSet(string Name, Tensor Images, int[]? Labels, string? Dataset) : IDisposable
{
    public int Count => (int)Images.shape[0];
    public int Channels => (int)Images.shape[1];
    public int Height => (int)Images.shape[2];
    public int Width => (int)Images.shape[3];

    public void Dispose() => Images.Dispose();
}

/// <summary>
/// Loads the inputs of <c>difflab eval</c>: a dataset split (<c>mnist:heldout</c>, <c>fashion-mnist:train</c>, …) or a
/// folder of PNG/JPEG files (searched recursively, e.g. the <c>images/</c> of <c>difflab sample</c>, whose
/// <c>-classC</c> file-name suffix gives the label). All images of a folder must share one size; a folder is
/// grayscale when every pixel has R = G = B.
/// </summary>
public static class ImageSets
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    private static HashSet<string>? Listed(string folder) =>
        OutputManifest.Read(folder) is { } manifest ? manifest.Images.Select(f => Path.GetFullPath(Path.Combine(folder, f))).ToHashSet() : null;

    /// <summary>The images of <paramref name="spec"/> (a dataset split or a folder), at most <paramref name="limit"/> (of a
    /// split a fixed random subset, of a folder the first files by name);
    /// <paramref name="onProgress"/> gets (images decoded, of all) while a folder is read.</summary>
    public static ImageSet Load(string spec, int? limit = null, Action<long, long>? onProgress = null)
    {
        int colon = spec.LastIndexOf(':');
        if (colon > 0 && !Directory.Exists(spec))
        {
            var name = spec[..colon];
            var split = spec[(colon + 1)..];
            if (split is "train" or "heldout")
            {
                var ds = ImageDatasets.Load(name, split);
                // at most `limit` images: a fixed random subset (seed 0, in the split's order), not the first ones — splits
                // are often sorted by class, and the first N would be a few classes only
                var idx = Enumerable.Range(0, ds.Count).ToArray();
                if (limit is int l && l < ds.Count)
                {
                    new Random(0).Shuffle(idx);
                    idx = idx[..l];
                    Array.Sort(idx);
                }
                var (images, labels) = ds.Batch(idx);
                labels.Dispose();
                return new ImageSet(spec, images, idx.Select(i => ds.Labels[i]).ToArray(), name);
            }
        }
        if (!Directory.Exists(spec))
            throw new DiffusionLabException($"'{spec}' is neither a folder of images nor a dataset split (mnist:heldout, fashion-mnist:train, …)");
        var files = Directory.GetFiles(spec, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        // a verb's output folder (or its images/ sub-folder): only what its manifest lists, never a stray earlier file;
        // a parent's manifest counts only where it lists images in this folder
        var full = Path.GetFullPath(spec.TrimEnd(Path.DirectorySeparatorChar));
        var listed = Listed(spec) ?? Listed(Path.GetDirectoryName(full)!) ?? ShardsListed(spec);
        if (listed is not null && listed.Any(f => f.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            files = files.Where(f => listed.Contains(Path.GetFullPath(f)))
                .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ThenBy(f => f, StringComparer.Ordinal).ToArray(); // shards: by global index
        if (limit is int lim) files = files.Take(lim).ToArray();
        if (files.Length == 0) throw new DiffusionLabException($"no images ({string.Join(", ", Extensions)}) in {spec}");
        var bitmaps = new SKBitmap[files.Length];
        try
        {
            // decoded in parallel, a chunk at a time, so that progress is reported from this thread between chunks
            const int chunk = 256;
            for (int start = 0; start < files.Length; start += chunk)
            {
                int end = Math.Min(start + chunk, files.Length);
                ParallelLoop.For(start, end, i => bitmaps[i] = ImageTensor.Decode(files[i]));
                onProgress?.Invoke(end, files.Length);
            }
            int w = bitmaps[0].Width, h = bitmaps[0].Height;
            for (int i = 1; i < files.Length; i++)
                if (bitmaps[i].Width != w || bitmaps[i].Height != h)
                    throw new DiffusionLabException($"images in {spec} differ in size: {Path.GetFileName(files[0])} is {w}×{h}, {Path.GetFileName(files[i])} is {bitmaps[i].Width}×{bitmaps[i].Height}");
            bool gray = bitmaps.All(IsGray);
            int c = gray ? 1 : 3;
            var pixels = new byte[files.Length * c * h * w];
            for (int i = 0; i < files.Length; i++) ImageTensor.CopyBytes(bitmaps[i], c, pixels.AsSpan(i * c * h * w, c * h * w));
            var images = ImageTensor.FromBytes(pixels, [files.Length, c, h, w]);
            var labels = files.Select(LabelOf).ToArray();
            return new ImageSet(spec, images, labels.All(l => l >= 0) ? labels : null, null);
        }
        finally
        {
            foreach (var b in bitmaps) b?.Dispose();
        }
    }

    /// <summary>
    /// The images the parts of a sharded run listed (OUT/shard-K-of-N/manifest.json, <see cref="Shard"/>), or null where
    /// <paramref name="folder"/> holds no parts; a missing part or parts of different splits are an error, since their
    /// union would silently be a different set than the run asked for.
    /// </summary>
    private static HashSet<string>? ShardsListed(string folder)
    {
        var parts = Directory.GetDirectories(folder, "shard-*-of-*")
            .Select(d => (Dir: d, Match: System.Text.RegularExpressions.Regex.Match(Path.GetFileName(d), @"^shard-(\d+)-of-(\d+)$")))
            .Where(p => p.Match.Success && File.Exists(Path.Combine(p.Dir, OutputManifest.FileName)))
            .Select(p => (p.Dir, K: int.Parse(p.Match.Groups[1].Value, CultureInfo.InvariantCulture), N: int.Parse(p.Match.Groups[2].Value, CultureInfo.InvariantCulture)))
            .ToList();
        if (parts.Count == 0) return null;
        var counts = parts.Select(p => p.N).Distinct().ToList();
        if (counts.Count > 1) throw new DiffusionLabException($"{folder} holds parts of runs split {string.Join(" and ", counts)} ways: keep one run's shards per folder");
        int n = counts[0];
        var missing = Enumerable.Range(0, n).Except(parts.Select(p => p.K)).ToList();
        if (missing.Count > 0)
            throw new DiffusionLabException($"{folder} lacks part{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(k => $"{k}/{n}"))} of its {n}-way run (no finished shard-K-of-{n}/manifest.json): run {(missing.Count > 1 ? "them" : "it")}, or evaluate the parts' folders one by one");
        return parts.SelectMany(p => Listed(p.Dir)!).ToHashSet();
    }

    private static bool IsGray(SKBitmap b)
    {
        using var rgba = b.ColorType == SKColorType.Rgba8888 ? null : b.Copy(SKColorType.Rgba8888);
        var p = (rgba ?? b).GetPixelSpan();
        for (int i = 0; i < p.Length; i += 4)
            if (p[i] != p[i + 1] || p[i] != p[i + 2]) return false;
        return true;
    }

    /// <summary>The C of a "…-classC.png" file name, else −1.</summary>
    public static int LabelOf(string file)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        int k = stem.LastIndexOf("-class", StringComparison.Ordinal);
        return k >= 0 && int.TryParse(stem[(k + 6)..], out var c) ? c : -1;
    }

    /// <summary>Throws unless both sets have the same image size and channel count.</summary>
    public static void CheckCompatible(ImageSet a, ImageSet b)
    {
        if (a.Channels != b.Channels || a.Height != b.Height || a.Width != b.Width)
            throw new DiffusionLabException($"the two image sets differ: {a.Name} has {a.Channels}×{a.Height}×{a.Width} images, {b.Name} has {b.Channels}×{b.Height}×{b.Width}");
    }
}
