using System.Globalization;
using DiffusionLab.Metrics;

namespace DiffusionLab.Evaluation;

/// <summary>
/// A FID figure with its real-vs-real floor: the FID of <see cref="FloorN"/> real images (as many as the samples) against
/// the other <see cref="FloorReferenceN"/> real images — what a perfect generator would score at this sample size.
/// </summary>
public sealed record FidReport(double Fid, int NReal, int NFake, double Floor, int FloorN, int FloorReferenceN, string? Warning)
{
    /// <summary>One sentence on how to read the FID against its floor.</summary>
    public string Explanation => double.IsNaN(Floor)
        ? NReal >= 2 * NFake
            ? "no floor: the real side was given as feature sums, and the floor holds real images out of the real features themselves (give the real images or data set instead)"
            : $"no floor: it needs at least twice as many real images as samples ({NReal} real, {NFake} samples), so that {NFake} real images can be held out against a reference as large"
        : string.Create(CultureInfo.InvariantCulture,
            $"floor: {FloorN} real images against the other {FloorReferenceN} score {Floor:G4} — the FID a perfect generator would get with {FloorN} samples (FID is biased upwards at small n); ")
          + (Fid <= Floor ? $"the samples' FID is at or below it: at n = {NFake} they cannot be told from real images by these features"
                          : string.Create(CultureInfo.InvariantCulture, $"the samples are {Fid - Floor:G4} above it"));
}

/// <summary>
/// The numbers of <c>difflab eval</c> on a feature network's features (a domain classifier or ResNet-18): FID with the real-vs-real floor
/// (the same number of real images as samples, scored against the rest of the real set: like for like), KID,
/// precision/recall, class accuracy and an Inception-Score analogue (those two on the classifier). Neither feature set
/// is Inception-v3's, so the figures are not comparable with FIDs from papers.
/// </summary>
public static class Evaluator
{
    /// <summary>Below this many samples FID is noticeably biased upwards (Chong &amp; Forsyth 2020); a warning says so.</summary>
    public const int RecommendedSamples = 1000;

    /// <summary>FID of <paramref name="fake"/> against <paramref name="real"/> on the features of <paramref name="features"/>,
    /// with its like-for-like floor; <paramref name="onProgress"/> gets (images through the feature network, of both sets).</summary>
    public static FidReport Fid(IFeatureNetwork features, ImageSet real, ImageSet fake, Action<long, long>? onProgress = null)
    {
        Check(features, real, fake);
        using var scope = torch.NewDisposeScope();
        var (fr, ff) = BothFeatures(features, real, fake, onProgress);
        double fid = FrechetDistance.Compute(fr, ff);
        double floor = Floor(fr, fake.Count);
        string? warning = fake.Count < RecommendedSamples || real.Count < RecommendedSamples
            ? $"FID on {Math.Min(fake.Count, real.Count)} samples is biased upwards; {RecommendedSamples}+ per set is recommended (compare with the floor at the same size)"
            : null;
        bool hasFloor = !double.IsNaN(floor);
        return new FidReport(fid, real.Count, fake.Count, floor, hasFloor ? fake.Count : 0, hasFloor ? real.Count - fake.Count : 0, warning);
    }

    /// <summary>
    /// FID from feature sums (<see cref="FeatureSums"/>: stats files, merged shards) — the same number as
    /// <see cref="Fid(IFeatureNetwork, ImageSet, ImageSet, Action{long, long}?)"/> on the concatenated sets, up to float64
    /// rounding. The floor needs the real features themselves (<paramref name="realFeatures"/>, where the real side was
    /// embedded here); from sums alone there is none.
    /// </summary>
    public static FidReport Fid(FeatureSums real, FeatureSums fake, Tensor? realFeatures = null)
    {
        if (real.Dimension != fake.Dimension)
            throw new DiffusionLabException($"FID: feature dimensions differ ({real.Dimension} vs {fake.Dimension}); use the same feature network for both sets");
        double fid = FrechetDistance.Compute(real.ToStatistics(), fake.ToStatistics());
        int nReal = checked((int)real.Count), nFake = checked((int)fake.Count);
        double floor = realFeatures is null ? double.NaN : Floor(realFeatures, nFake);
        string? warning = Math.Min(nReal, nFake) < RecommendedSamples
            ? $"FID on {Math.Min(nFake, nReal)} samples is biased upwards; {RecommendedSamples}+ per set is recommended (compare with the floor at the same size)"
            : null;
        bool hasFloor = !double.IsNaN(floor);
        return new FidReport(fid, nReal, nFake, floor, hasFloor ? nFake : 0, hasFloor ? nReal - nFake : 0, warning);
    }

    /// <summary>The features of both sets, with progress counted over both.</summary>
    private static (Tensor Real, Tensor Fake) BothFeatures(IFeatureNetwork features, ImageSet real, ImageSet fake, Action<long, long>? onProgress)
    {
        long total = real.Count + fake.Count;
        var fr = FeatureCache.Features(features, real, onProgress is null ? null : (done, _) => onProgress(done, total));
        var ff = FeatureCache.Features(features, fake, onProgress is null ? null : (done, _) => onProgress(real.Count + done, total));
        return (fr, ff);
    }

    /// <summary>
    /// The real-vs-real floor of an FID on <paramref name="n"/> samples: the FID of <paramref name="n"/> randomly held-out
    /// real features against the other R − n (a fixed shuffle, so class-sorted splits such as mnist:heldout give
    /// class-balanced parts). FID's bias grows like 1/n_fake + 1/n_real (Chong &amp; Forsyth 2020), so the floor is like
    /// for like with the samples' FID (n against R) only when the held-out part has the samples' size and the reference
    /// stays large; NaN when R &lt; 2n (the reference would be smaller than the samples).
    /// </summary>
    public static double Floor(Tensor realFeatures, int n)
    {
        int r = (int)realFeatures.shape[0];
        if (n < 2 || r < 2 * n) return double.NaN;
        var order = Enumerable.Range(0, r).ToArray();
        new Random(0).Shuffle(order);
        using var heldOut = realFeatures.index_select(0, torch.tensor(order[..n].Select(i => (long)i).ToArray()));
        using var reference = realFeatures.index_select(0, torch.tensor(order[n..].Select(i => (long)i).ToArray()));
        return FrechetDistance.Compute(reference, heldOut);
    }

    public static KidResult Kid(IFeatureNetwork features, ImageSet real, ImageSet fake, long seed = 0, Action<long, long>? onProgress = null)
    {
        Check(features, real, fake);
        using var scope = torch.NewDisposeScope();
        var (fr, ff) = BothFeatures(features, real, fake, onProgress);
        return KernelInceptionDistance.Compute(fr, ff, seed: seed);
    }

    public static PrecisionRecallResult PrecisionRecall(IFeatureNetwork features, ImageSet real, ImageSet fake, int k = 3, Action<long, long>? onProgress = null)
    {
        Check(features, real, fake);
        using var scope = torch.NewDisposeScope();
        var (fr, ff) = BothFeatures(features, real, fake, onProgress);
        return Metrics.PrecisionRecall.Compute(fr, ff, k);
    }

    /// <summary>Fraction of images the classifier reads as their label (or as <paramref name="target"/> for all).</summary>
    public static double Accuracy(Classifier classifier, ImageSet images, int? target = null) => ClassAccuracy(classifier, images, target).Overall;

    /// <summary>The fraction read as their class, overall and per class (keyed by the requested class).</summary>
    public sealed record AccuracyResult(double Overall, IReadOnlyDictionary<int, double> PerClass)
    {
        /// <summary>The mean of the per-class figures: what a class-balanced set scores.</summary>
        public double Balanced => BalancedAccuracy(PerClass.Values);
    }

    /// <summary>The balanced accuracy: the mean of per-class accuracies over the classes present (NaN marks an absent one).</summary>
    public static double BalancedAccuracy(IEnumerable<double> perClass) => perClass.Where(a => !double.IsNaN(a)).DefaultIfEmpty(double.NaN).Average();

    public static AccuracyResult ClassAccuracy(Classifier classifier, ImageSet images, int? target = null)
    {
        classifier.CheckImages(images.Channels, images.Height, images.Width, images.Name);
        var labels = target is int t ? Enumerable.Repeat(t, images.Count).ToArray()
            : images.Labels ?? throw new DiffusionLabException($"{images.Name} has no labels: give the class as `target` (or sample with a class, so that file names carry it)");
        if (labels.Any(l => l < 0 || l >= classifier.Info.ClassNames.Length))
            throw new DiffusionLabException($"class out of range: the classifier has {classifier.Info.ClassNames.Length} classes (0..{classifier.Info.ClassNames.Length - 1})");
        using var scope = torch.NewDisposeScope();
        var predicted = classifier.Predict(images.Images).data<long>().ToArray();
        var perClass = labels.Zip(predicted).GroupBy(p => p.First).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Count(p => p.Second == p.First) / (double)g.Count());
        return new AccuracyResult(predicted.Zip(labels).Count(p => p.First == p.Second) / (double)images.Count, perClass);
    }

    /// <summary>The confidence threshold of <see cref="ConfidentFraction(Classifier, ImageSet, double)"/> in the reports: CS180's goal for unconditional
    /// MNIST samples is that a classifier reads them as digits, and 0.9 is where the shipped classifier reads real
    /// held-out digits almost always (docs/RESULTS.md measures both).</summary>
    public const double ConfidenceThreshold = 0.9;

    /// <summary>The fraction of images whose most likely class has probability at least <paramref name="threshold"/>: how
    /// many samples look like *some* class, which needs no label (so it reads unconditional samples too). The
    /// sharpness half of Salimans et al. 2016's Inception Score, as a count rather than an entropy.</summary>
    public static double ConfidentFraction(Classifier classifier, ImageSet images, double threshold = ConfidenceThreshold)
    {
        classifier.CheckImages(images.Channels, images.Height, images.Width, images.Name);
        using var scope = torch.NewDisposeScope();
        return ConfidentFraction(classifier.Probabilities(images.Images), threshold);
    }

    /// <summary><see cref="ConfidentFraction(Classifier, ImageSet, double)"/> of class probabilities already computed (N × classes).</summary>
    public static double ConfidentFraction(Tensor probabilities, double threshold = ConfidenceThreshold)
    {
        if (threshold is < 0 or > 1 || double.IsNaN(threshold)) throw new DiffusionLabException($"the confidence threshold must lie in [0, 1], got {threshold}");
        using var scope = torch.NewDisposeScope();
        return probabilities.amax([1]).ge(threshold).to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>exp(E_x KL(p(y|x) ‖ p(y))) with the domain classifier (Salimans et al. 2016's Inception Score, on our features).</summary>
    public static double ClassifierScore(Classifier classifier, ImageSet images)
    {
        using var scope = torch.NewDisposeScope();
        return ClassifierScore(classifier.Probabilities(images.Images));
    }

    /// <summary><see cref="ClassifierScore(Classifier, ImageSet)"/> of class probabilities already computed (N × classes).</summary>
    public static double ClassifierScore(Tensor probabilities)
    {
        using var scope = torch.NewDisposeScope();
        var p = probabilities.to_type(ScalarType.Float64).clamp_min(1e-12);
        var marginal = p.mean([0], keepdim: true);
        return Math.Exp((p * (p.log() - marginal.log())).sum(1).mean().item<double>());
    }

    private static void Check(IFeatureNetwork features, ImageSet real, ImageSet fake)
    {
        ImageSets.CheckCompatible(real, fake);
        features.CheckImages(real);
        features.CheckImages(fake);
        if (real.Count < 2 || fake.Count < 2) throw new DiffusionLabException("each set needs at least 2 images");
    }
}
