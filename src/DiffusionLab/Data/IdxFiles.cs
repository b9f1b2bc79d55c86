using System.IO.Compression;

namespace DiffusionLab.Data;

/// <summary>
/// The IDX format of the original MNIST distribution (LeCun et al.): big-endian magic 0x00000803 (images, then
/// count, rows, cols) or 0x00000801 (labels, then count), followed by unsigned bytes; optionally gzipped.
/// </summary>
public static class IdxFiles
{
    public static byte[] Read(string path, out int[] dims)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"IDX file not found: {path}");
        using var raw = File.OpenRead(path);
        Stream s = raw;
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) s = new GZipStream(raw, CompressionMode.Decompress);
        using var ms = new MemoryStream();
        try { s.CopyTo(ms); }
        catch (InvalidDataException) { throw new DiffusionLabException($"{path} is not a valid gzip file"); }
        var b = ms.ToArray();
        if (b.Length < 8 || b[0] != 0 || b[1] != 0 || b[2] != 0x08)
            throw new DiffusionLabException($"{path} is not an IDX file of unsigned bytes");
        int rank = b[3];
        if (rank is < 1 or > 4 || b.Length < 4 + 4 * rank) throw new DiffusionLabException($"{path} has a corrupt IDX header");
        dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            int o = 4 + 4 * i;
            dims[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
            if (dims[i] < 0) throw new DiffusionLabException($"{path} has a corrupt IDX header");
            total *= dims[i];
        }
        int header = 4 + 4 * rank;
        if (b.Length - header != total) throw new DiffusionLabException($"{path} is truncated: {b.Length - header} data bytes for {total}");
        return b[header..];
    }

    /// <summary>Loads an images file (rank 3) and its labels file (rank 1) as a dataset with classes 0..9 (or up to the largest label).</summary>
    public static ImageDataset Load(string imagesPath, string labelsPath, string name)
    {
        var pixels = Read(imagesPath, out var d);
        if (d.Length != 3) throw new DiffusionLabException($"{imagesPath} is not an IDX images file (rank {d.Length}, expected 3)");
        var labelBytes = Read(labelsPath, out var dl);
        if (dl.Length != 1) throw new DiffusionLabException($"{labelsPath} is not an IDX labels file (rank {dl.Length}, expected 1)");
        if (dl[0] != d[0]) throw new DiffusionLabException($"{imagesPath} has {d[0]} images but {labelsPath} has {dl[0]} labels");
        var labels = labelBytes.Select(x => (int)x).ToArray();
        int k = Math.Max(10, labels.Max() + 1);
        return new ImageDataset(name, pixels, labels, 1, d[1], d[2], Enumerable.Range(0, k).Select(i => i.ToString()).ToArray());
    }

    /// <summary>Finds <c>PREFIX-images-idx3-ubyte[.gz]</c> and <c>PREFIX-labels-idx1-ubyte[.gz]</c> in a folder (prefix train or t10k).</summary>
    public static ImageDataset LoadFromFolder(string dir, string prefix, string name)
    {
        string Find(string kind)
        {
            foreach (var candidate in new[] { $"{prefix}-{kind}", $"{prefix}-{kind}.gz", $"{prefix}-{kind.Replace("-idx", ".idx")}", $"{prefix}-{kind.Replace("-idx", ".idx")}.gz" })
            {
                var p = Path.Combine(dir, candidate);
                if (File.Exists(p)) return p;
            }
            throw new DiffusionLabException($"no {prefix}-{kind}[.gz] in {dir} (standard MNIST IDX file names expected)");
        }
        return Load(Find("images-idx3-ubyte"), Find("labels-idx1-ubyte"), name);
    }
}
