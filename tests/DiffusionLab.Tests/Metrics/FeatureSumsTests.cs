using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Metrics;

public class FeatureSumsTests
{
    [Fact]
    public void MergedSumsGiveTheStatisticsAndTheFidOfTheConcatenatedSet()
    {
        using var scope = torch.NewDisposeScope();
        // features with a mean far from 0 relative to their spread, the hard case for raw moments
        var a = torch.randn(700, 24, dtype: ScalarType.Float64, generator: new Generator(1)) * 0.5 + 3;
        var b = torch.randn(900, 24, dtype: ScalarType.Float64, generator: new Generator(2)) * 0.6 + 3.2;
        var parts = new[] { a[..100], a[100..350], a[350..] }.Select(FeatureSums.FromFeatures).ToList();
        var merged = FeatureSums.Merge(parts);
        Assert.Equal(700, merged.Count);
        var direct = FeatureStatistics.FromFeatures(a);
        var fromSums = merged.ToStatistics();
        for (int i = 0; i < 24; i++) Assert.Equal(direct.Mean[i], fromSums.Mean[i], 12);
        double worst = 0;
        for (int i = 0; i < 24; i++)
            for (int j = 0; j < 24; j++) worst = Math.Max(worst, Math.Abs(direct.Covariance[i, j] - fromSums.Covariance[i, j]));
        // raw moments lose log10(mean² / variance) ≈ 1.6 digits of float64's 16 to cancellation: 1e-11 is far from that limit
        Assert.True(worst < 1e-11, $"largest covariance difference {worst}");
        double fidDirect = FrechetDistance.Compute(a, b);
        double fidMerged = FrechetDistance.Compute(merged.ToStatistics(), FeatureSums.FromFeatures(b).ToStatistics());
        Assert.Equal(fidDirect, fidMerged, 9);
        Assert.True(fidDirect > 0.5, $"the two sets should be apart: FID {fidDirect}");
    }

    [Fact]
    public void BadMergesAreClearErrors()
    {
        using var scope = torch.NewDisposeScope();
        var four = FeatureSums.FromFeatures(torch.randn(10, 4, generator: new Generator(1)));
        var five = FeatureSums.FromFeatures(torch.randn(10, 5, generator: new Generator(1)));
        Assert.Contains("different dimensions", Assert.Throws<DiffusionLabException>(() => FeatureSums.Merge([four, five])).Message);
        Assert.Contains("at least one", Assert.Throws<DiffusionLabException>(() => FeatureSums.Merge([])).Message);
        var one = FeatureSums.FromFeatures(torch.randn(1, 4, generator: new Generator(1)));
        Assert.Contains("at least 2", Assert.Throws<DiffusionLabException>(() => one.ToStatistics()).Message);
        Assert.Contains("NaN", Assert.Throws<DiffusionLabException>(() => FeatureSums.FromFeatures(torch.full(3, 4, double.NaN))).Message);
    }
}
