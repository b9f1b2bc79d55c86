using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Common;

public class NoiseGeneratorTests
{
    [Fact]
    public void EachSamplesNoiseDependsOnlyOnTheSeedAndItsIndex()
    {
        using var batch = NoiseGenerator.PerSample(7, 10, 4);
        using var a = batch.Randn([4, 3, 5], ScalarType.Float32, CPU);
        using var b = batch.Randn([4, 3, 5], ScalarType.Float32, CPU); // a second draw continues each sample's stream
        for (int r = 0; r < 4; r++)
        {
            using var alone = NoiseGenerator.PerSample(7, 10 + r, 1);
            using var first = alone.Randn([1, 3, 5], ScalarType.Float32, CPU);
            using var second = alone.Randn([1, 3, 5], ScalarType.Float32, CPU);
            Assert.True(a[r].eq(first[0]).all().item<bool>(), $"row {r}, first draw");
            Assert.True(b[r].eq(second[0]).all().item<bool>(), $"row {r}, second draw");
        }
        // another seed, or a neighbouring index, gives other noise
        using var otherSeed = NoiseGenerator.PerSample(8, 10, 4);
        using var c = otherSeed.Randn([4, 3, 5], ScalarType.Float32, CPU);
        Assert.False(a.allclose(c));
        Assert.False(a[0].allclose(a[1]));
        // standard normal: 4 × 15 draws per call are too few for a moment test; a large row is not
        using var big = NoiseGenerator.PerSample(1, 0, 2);
        using var z = big.Randn([2, 50_000], ScalarType.Float32, CPU);
        Assert.InRange(z.mean().item<float>(), -0.02, 0.02); // 5σ of the mean of 100,000 draws is 0.016
        Assert.InRange(z.std().item<float>(), 0.98, 1.02);
    }

    [Fact]
    public void SampleSeedsOfNeighboursDiffer()
    {
        var seeds = new HashSet<long>();
        for (long seed = 0; seed < 20; seed++)
            for (long i = 0; i < 500; i++) seeds.Add(PerSampleNoise.SampleSeed(seed, i));
        Assert.Equal(20 * 500, seeds.Count);
        Assert.All(seeds, s => Assert.True(s >= 0));
    }

    [Fact]
    public void ABatchOfTheWrongSizeIsAClearError()
    {
        using var noise = NoiseGenerator.PerSample(0, 0, 3);
        var e = Assert.Throws<DiffusionLabException>(() => noise.Randn([4, 2], ScalarType.Float32, CPU));
        Assert.Contains("3 samples", e.Message);
    }
}
