namespace DiffusionLab.Metrics;

/// <summary>
/// The sufficient statistics of a feature set for FID in a form that adds up: the count n, Σx and Σxxᵀ, in float64. Sets
/// embedded apart — the shards of a sampling run, on as many machines — merge by adding their sums, and the merged mean and
/// covariance are those of the concatenated set (up to float64 rounding), where means and covariances could not be
/// averaged without their counts and cross terms (the parallel-variance formula of Chan, Golub &amp; LeVeque 1983, in
/// its raw-moment form).
/// </summary>
public sealed record FeatureSums(long Count, double[] Sum, double[,] OuterSum)
{
    public int Dimension => Sum.Length;

    /// <summary>n, Σx and Σxxᵀ of features [N, D].</summary>
    public static FeatureSums FromFeatures(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 1)
            throw new DiffusionLabException($"feature sums need feature vectors as [N, D], got [{string.Join(", ", features.shape)}]");
        using var scope = torch.NewDisposeScope();
        var x = features.detach().cpu().to_type(ScalarType.Float64);
        if (!x.isfinite().all().item<bool>()) throw new DiffusionLabException("features contain NaN or infinity");
        int d = (int)x.shape[1];
        return new FeatureSums(x.shape[0], x.sum([0]).data<double>().ToArray(), FeatureStatistics.ToArray2(x.t().matmul(x), d));
    }

    /// <summary>The sums of the union of <paramref name="parts"/> (which must come from the same feature network).</summary>
    public static FeatureSums Merge(IReadOnlyList<FeatureSums> parts)
    {
        if (parts.Count == 0) throw new DiffusionLabException("nothing to merge: give at least one set of feature sums");
        int d = parts[0].Dimension;
        if (parts.Any(p => p.Dimension != d))
            throw new DiffusionLabException($"feature sums of different dimensions cannot be merged ({string.Join(", ", parts.Select(p => p.Dimension).Distinct())}); use the same feature network for every part");
        var sum = new double[d];
        var outer = new double[d, d];
        foreach (var p in parts)
        {
            for (int i = 0; i < d; i++) sum[i] += p.Sum[i];
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) outer[i, j] += p.OuterSum[i, j];
        }
        return new FeatureSums(parts.Sum(p => p.Count), sum, outer);
    }

    /// <summary>μ = Σx / n and the unbiased covariance Σ = (Σxxᵀ − n μμᵀ) / (n − 1), as <see cref="FeatureStatistics.FromFeatures"/> gives them.</summary>
    public FeatureStatistics ToStatistics()
    {
        if (Count < 2) throw new DiffusionLabException($"a covariance needs at least 2 feature vectors, these sums hold {Count}");
        int d = Dimension;
        var mean = Sum.Select(s => s / Count).ToArray();
        var cov = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) cov[i, j] = (OuterSum[i, j] - Count * mean[i] * mean[j]) / (Count - 1);
        return new FeatureStatistics(mean, cov, checked((int)Count));
    }
}
