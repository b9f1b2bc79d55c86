namespace DiffusionLab.Metrics;

/// <summary>
/// How many samples are near-copies of training images: the check of Carlini et al. 2023 ("Extracting training data from
/// diffusion models") and Somepalli et al. 2023, done in a feature space. Each sample's distance to its nearest training
/// image is compared with a threshold calibrated on real images the model never saw: the <see cref="Quantile"/> of the
/// held-out images' own nearest-training distances. A held-out image is no copy, so a sample closer to the training set
/// than all but that fraction of held-out images are is counted as a near-copy; a model that draws new images has about
/// that fraction too, one that memorises has many more.
/// </summary>
public static class NearCopies
{
    /// <summary>The held-out quantile that sets the threshold: 1 % of genuinely new images fall below it.</summary>
    public const double Quantile = 0.01;

    public sealed record Result(double Threshold, double FractionBelow, double HeldoutFractionBelow, double MedianDistance, double HeldoutMedianDistance, int[] NearestTraining, double[] Distances);

    /// <summary>Euclidean distance from each row of <paramref name="queries"/> [N, D] to its nearest row of <paramref name="reference"/> [M, D], and its index.</summary>
    public static (double[] Distance, int[] Index) Nearest(Tensor queries, Tensor reference)
    {
        using var scope = torch.NewDisposeScope();
        var q = queries.to_type(ScalarType.Float64);
        var r = reference.to_type(ScalarType.Float64);
        var distances = torch.cdist(q, r); // [N, M]
        var (min, arg) = distances.min(1);
        return (min.data<double>().ToArray(), arg.to_type(ScalarType.Int32).data<int>().ToArray());
    }

    public static Result Compute(Tensor training, Tensor heldout, Tensor samples)
    {
        if (training.shape[1] != heldout.shape[1] || training.shape[1] != samples.shape[1])
            throw new DiffusionLabException("near-copy check: the three feature sets differ in dimension; embed them with the same network");
        if (heldout.shape[0] < 10) throw new DiffusionLabException($"near-copy check: the threshold needs at least 10 held-out images, got {heldout.shape[0]}");
        var (held, _) = Nearest(heldout, training);
        var (dist, index) = Nearest(samples, training);
        var sorted = held.Order().ToArray();
        double threshold = sorted[(int)Math.Floor(Quantile * (sorted.Length - 1))];
        static double Median(double[] v) { var s = v.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
        return new Result(threshold, dist.Count(d => d <= threshold) / (double)dist.Length, held.Count(d => d <= threshold) / (double)held.Length,
            Median(dist), Median(held), index, dist);
    }
}
