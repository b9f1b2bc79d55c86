namespace DiffusionLab.Evaluation;

/// <summary>
/// A network that maps images to feature vectors, the space in which FID, KID and precision/recall compare two image
/// sets: a domain classifier trained here (<see cref="Classifier"/>) or an ImageNet network (<see cref="ResNet18Features"/>).
/// </summary>
public interface IFeatureNetwork
{
    /// <summary>What the numbers are measured on, said plainly ("ResNet-18 ImageNet features", "emoji classifier").</summary>
    string Description { get; }

    /// <summary>Identifies the network's weights and preprocessing; keys the cache of a data set's features.</summary>
    string CacheKey { get; }

    /// <summary>Throws a clear error unless this network can embed the images of <paramref name="set"/>.</summary>
    void CheckImages(ImageSet set);

    /// <summary>Features [N, F] (float64) of images [N, C, H, W] in [−1, 1]; <paramref name="onProgress"/> gets (done, all).</summary>
    Tensor Features(Tensor images, Action<long, long>? onProgress = null);
}

/// <summary>
/// The features of a data set's split, cached in the data folder (<c>DATA/NAME/features-SPLIT-N-KEY.bin</c>) so that a
/// repeated evaluation embeds only the samples; other image sets (folders) are embedded every time.
/// </summary>
public static class FeatureCache
{
    /// <summary>The features of <paramref name="set"/> on <paramref name="network"/>, from the cache where it holds them.</summary>
    public static Tensor Features(IFeatureNetwork network, ImageSet set, Action<long, long>? onProgress = null)
    {
        network.CheckImages(set);
        if (set.Dataset is null || network.CacheKey.Length == 0 || !set.Name.StartsWith(set.Dataset + ":", StringComparison.Ordinal) || set.Name.Contains('/'))
            return network.Features(set.Images, onProgress);
        // the key holds the image size too: emoji and emoji64 are the same split at two sizes
        var path = Path.Combine(Data.ImageDatasets.DataDirectory, set.Dataset,
            $"features-{set.Name[(set.Dataset.Length + 1)..]}-{set.Count}-{set.Height}px-{network.CacheKey}.bin");
        if (File.Exists(path))
        {
            try
            {
                // torch.load reads what Tensor.save wrote; TorchSharp 0.107's static Tensor.Load(path) throws on it
                // ("Unsupported TypeMeta"), which the catch below took for a damaged cache, so nothing was ever read back
                var cached = torch.load(path);
                if (cached.shape[0] == set.Count)
                {
                    onProgress?.Invoke(set.Count, set.Count);
                    return cached;
                }
                cached.Dispose();
            }
            catch (Exception) { } // a damaged cache is recomputed below
        }
        var f = network.Features(set.Images, onProgress);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var tmp = path + $".{Environment.ProcessId}.tmp";
            f.save(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException) { } // the cache is an optimisation only
        return f;
    }
}
