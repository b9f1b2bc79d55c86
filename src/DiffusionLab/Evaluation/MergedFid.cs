using DiffusionLab.Metrics;

namespace DiffusionLab.Evaluation;

/// <summary>
/// FID between two sides each given in parts — stats files of <see cref="FeatureSumsFile"/> (the shards of a sampling
/// run, evaluated where they were made) and image sets (data set splits, folders) — merged by adding their feature sums
/// (<see cref="FeatureSums"/>), so the figure is the FID of the union of the parts. The floor needs the real features
/// themselves, so there is one only where the real side is a single image set.
/// </summary>
public static class MergedFid
{
    public static bool IsStatsFile(string part) => part.EndsWith(FeatureSumsFile.Extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>The FID and the description of the features it was computed on.</summary>
    public sealed record Result(FidReport Report, string Features);

    /// <summary>
    /// The FID of the union of <paramref name="fakeParts"/> against the union of <paramref name="realParts"/>, image parts
    /// limited to <paramref name="realLimit"/> / <paramref name="fakeLimit"/> images each; <paramref name="openFeatures"/>
    /// gives the feature network for image parts from the first image set's data set (called once, lazily), and
    /// <paramref name="onProgress"/> gets (what, done, total) while an image part is read and embedded.
    /// </summary>
    public static Result Compute(IReadOnlyList<string> realParts, IReadOnlyList<string> fakeParts, Func<string?, IFeatureNetwork> openFeatures,
        int? realLimit = null, int? fakeLimit = null, Action<string, long, long>? onProgress = null)
    {
        if (realParts.Count == 0 || fakeParts.Count == 0) throw new DiffusionLabException("FID needs at least one part on each side");
        IFeatureNetwork? network = null;
        var sources = new List<(string Part, string Key, string Features)>();
        Tensor? realFeatures = null;
        try
        {
            FeatureSums Side(IReadOnlyList<string> parts, int? limit, bool isReal)
            {
                var sums = new List<FeatureSums>();
                foreach (var part in parts)
                {
                    if (IsStatsFile(part))
                    {
                        var file = FeatureSumsFile.Load(part);
                        sources.Add((part, file.FeaturesKey, file.Features));
                        sums.Add(file.Sums);
                        continue;
                    }
                    using var set = ImageSets.Load(part, limit, onProgress is null ? null : (done, total) => onProgress($"reading {part}", done, total));
                    network ??= openFeatures(set.Dataset);
                    sources.Add((part, network.CacheKey, network.Description));
                    var f = FeatureCache.Features(network, set, onProgress is null ? null : (done, total) => onProgress($"feature network on {part}", done, total));
                    sums.Add(FeatureSums.FromFeatures(f));
                    if (isReal && parts.Count == 1) realFeatures = f;
                    else f.Dispose();
                }
                return FeatureSums.Merge(sums);
            }
            var real = Side(realParts, realLimit, isReal: true);
            var fake = Side(fakeParts, fakeLimit, isReal: false);
            if (sources.Select(s => s.Key).Distinct().Count() > 1)
                throw new DiffusionLabException("the parts were embedded by different feature networks: " + string.Join("; ", sources.Select(s => $"{s.Part}: {s.Features}"))
                    + " (compute every stats file with the features of this evaluation)");
            return new Result(Evaluator.Fid(real, fake, realFeatures), sources[0].Features);
        }
        finally
        {
            realFeatures?.Dispose();
            (network as IDisposable)?.Dispose();
        }
    }
}
