using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Metrics;

public class FeatureMetricsTests
{
    private static FeatureStatistics Stats(double[] mean, double[,] cov) => new(mean, cov, 1000);

    [Fact]
    public void FidOfASetWithItselfIsZero()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(500, 16, generator: new Generator(1)) * 3 + 1;
        Assert.Equal(0, FrechetDistance.Compute(x, x), 8);
    }

    [Fact]
    public void FidMatchesTheClosedFormForDiagonalCovariances()
    {
        // Commuting (diagonal) covariances: Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½) = Σ (√a_i − √b_i)².
        double[] a = [1, 4, 9], b = [4, 1, 0.25];
        double[] mu1 = [0, 1, 2], mu2 = [1, 1, 0];
        var s1 = new double[3, 3];
        var s2 = new double[3, 3];
        for (int i = 0; i < 3; i++) { s1[i, i] = a[i]; s2[i, i] = b[i]; }
        double expected = 1 + 0 + 4 + a.Zip(b).Sum(p => Math.Pow(Math.Sqrt(p.First) - Math.Sqrt(p.Second), 2));
        Assert.Equal(expected, FrechetDistance.Compute(Stats(mu1, s1), Stats(mu2, s2)), 10);
    }

    [Fact]
    public void FidMatchesTheTwoByTwoClosedFormForNonCommutingCovariances()
    {
        // For 2×2 SPD M, √M = (M + √det M · I)/√(tr M + 2√det M); Tr((Σ1Σ2)^½) = √(tr(Σ1Σ2) + 2√det(Σ1Σ2)).
        var s1 = new double[,] { { 2, 0.8 }, { 0.8, 1 } };
        var s2 = new double[,] { { 1, -0.5 }, { -0.5, 3 } };
        double t12 = 0, det1 = s1[0, 0] * s1[1, 1] - s1[0, 1] * s1[1, 0], det2 = s2[0, 0] * s2[1, 1] - s2[0, 1] * s2[1, 0];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) t12 += s1[i, j] * s2[j, i];
        double trSqrt = Math.Sqrt(t12 + 2 * Math.Sqrt(det1 * det2));
        double expected = (s1[0, 0] + s1[1, 1]) + (s2[0, 0] + s2[1, 1]) - 2 * trSqrt;
        Assert.Equal(expected, FrechetDistance.Compute(Stats([0, 0], s1), Stats([0, 0], s2)), 10);
        Assert.Equal(FrechetDistance.Compute(Stats([0, 0], s1), Stats([0, 0], s2)), FrechetDistance.Compute(Stats([0, 0], s2), Stats([0, 0], s1)), 10);
    }

    [Fact]
    public void FidRejectsMismatchedFeatureDimensions()
    {
        Assert.Contains("dimensions differ", Assert.Throws<DiffusionLabException>(() =>
            FrechetDistance.Compute(Stats([0, 0], new double[2, 2]), Stats([0, 0, 0], new double[3, 3]))).Message);
    }

    [Fact]
    public void UnbiasedMmdMatchesABruteForceSumAndKidIsUnbiasedForEqualDistributions()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(6, 3, generator: new Generator(2), dtype: ScalarType.Float64);
        var y = torch.randn(6, 3, generator: new Generator(3), dtype: ScalarType.Float64) + 0.5;
        double k(Tensor a, Tensor b) => Math.Pow(a.dot(b).item<double>() / 3 + 1, 3);
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
            {
                if (i != j) { sxx += k(x[i], x[j]); syy += k(y[i], y[j]); }
                sxy += k(x[i], y[j]);
            }
        double brute = sxx / 30 + syy / 30 - 2 * sxy / 36;
        Assert.Equal(brute, KernelInceptionDistance.UnbiasedMmd2(x, y), 10);

        // Unbiased: for two samples of the same distribution the estimates average to 0 (within 4 standard errors),
        // while the biased V-statistic would be clearly positive.
        var estimates = new List<double>();
        for (int r = 0; r < 200; r++)
        {
            using var inner = torch.NewDisposeScope();
            var a = torch.randn(20, 4, generator: new Generator((ulong)(100 + 2 * r)), dtype: ScalarType.Float64);
            var b = torch.randn(20, 4, generator: new Generator((ulong)(101 + 2 * r)), dtype: ScalarType.Float64);
            estimates.Add(KernelInceptionDistance.UnbiasedMmd2(a, b));
        }
        double mean = estimates.Average();
        double se = Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (estimates.Count - 1) / estimates.Count);
        Assert.True(Math.Abs(mean) < 4 * se, $"mean {mean}, standard error {se}");

        var far = KernelInceptionDistance.Compute(torch.randn(200, 4, generator: new Generator(7)), torch.randn(200, 4, generator: new Generator(8)) + 2, subsets: 10, subsetSize: 100);
        Assert.True(far.Mean > 10 * far.StandardError);
    }

    [Fact]
    public void PrecisionAndRecallOfRealAgainstRealAreOneAndDisjointSetsScoreZero()
    {
        using var scope = torch.NewDisposeScope();
        var real = torch.randn(300, 8, generator: new Generator(4));
        var same = PrecisionRecall.Compute(real, real);
        Assert.Equal((1.0, 1.0), (same.Precision, same.Recall));
        var other = torch.randn(300, 8, generator: new Generator(5));
        var twin = PrecisionRecall.Compute(real, other);
        Assert.True(twin.Precision > 0.8 && twin.Recall > 0.8, $"{twin}");
        var far = PrecisionRecall.Compute(real, other + 100);
        Assert.Equal((0.0, 0.0), (far.Precision, far.Recall));
        // mode collapse: all fakes near one real point → high precision, low recall
        var collapsed = real[..1].repeat(300, 1) + 0.001 * torch.randn(300, 8, generator: new Generator(6));
        var c = PrecisionRecall.Compute(real, collapsed);
        Assert.True(c.Precision > 0.9 && c.Recall < 0.1, $"{c}");
    }
}
