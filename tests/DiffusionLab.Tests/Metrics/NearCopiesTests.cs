using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Metrics;

public class NearCopiesTests
{
    [Fact]
    public void NearestDistancesMatchABruteForceLoop()
    {
        using var scope = torch.NewDisposeScope();
        var q = torch.randn(7, 5, dtype: ScalarType.Float64, generator: new Generator(1));
        var r = torch.randn(11, 5, dtype: ScalarType.Float64, generator: new Generator(2));
        var (dist, index) = NearCopies.Nearest(q, r);
        var qa = q.data<double>().ToArray();
        var ra = r.data<double>().ToArray();
        for (int i = 0; i < 7; i++)
        {
            var best = Enumerable.Range(0, 11).Select(j => (j, d: Math.Sqrt(Enumerable.Range(0, 5).Sum(k => Math.Pow(qa[i * 5 + k] - ra[j * 5 + k], 2))))).MinBy(p => p.d);
            Assert.Equal(best.j, index[i]);
            Assert.Equal(best.d, dist[i], 9);
        }
    }

    [Fact]
    public void CopiesOfTrainingImagesAreCountedAndNewDrawsAreNot()
    {
        using var scope = torch.NewDisposeScope();
        var train = torch.randn(400, 8, dtype: ScalarType.Float64, generator: new Generator(1));
        var heldout = torch.randn(200, 8, dtype: ScalarType.Float64, generator: new Generator(2));
        var fresh = torch.randn(100, 8, dtype: ScalarType.Float64, generator: new Generator(3));
        var copies = train[..100] + 1e-3 * torch.randn(100, 8, dtype: ScalarType.Float64, generator: new Generator(4));
        var newDraws = NearCopies.Compute(train, heldout, fresh);
        Assert.InRange(newDraws.FractionBelow, 0, 0.06); // about the 1 % of held-out draws; 6 % leaves binomial room at n = 100
        Assert.InRange(newDraws.HeldoutFractionBelow, 0.005, 0.02);
        var memorised = NearCopies.Compute(train, heldout, copies);
        Assert.Equal(1.0, memorised.FractionBelow);
        Assert.Equal(Enumerable.Range(0, 100), memorised.NearestTraining);
        Assert.True(memorised.MedianDistance < 0.01 * memorised.HeldoutMedianDistance);
    }
}
