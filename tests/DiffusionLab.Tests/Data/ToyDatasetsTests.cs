using DiffusionLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Data;

public class ToyDatasetsTests
{
    [Fact]
    public void SwissRollIsStandardisedWithOneScalarMeanAndStd()
    {
        using var x = ToyDatasets.Sample("swiss-roll", 5000, seed: 1);
        Assert.Equal(new long[] { 5000, 2 }, x.shape);
        var v = x.data<float>().ToArray().Select(f => (double)f).ToArray();
        double mean = v.Average(), std = Math.Sqrt(v.Sum(a => (a - mean) * (a - mean)) / v.Length);
        Assert.Equal(0, mean, 1e-5);
        Assert.Equal(2, std, 1e-5);
    }

    [Fact]
    public void SwissRollRawPointsLieOnTheRollWithTheCentreCellRemoved()
    {
        // Each raw point is (t cos t, t sin t), so its radius is t ∈ [1.5π, 4.5π] and its angle is t mod 2π.
        // The removed centre cell takes half of the middle turn: it holds 2/8 of the points, the others 3/8.
        const int n = 40000;
        var raw = ToyDatasets.SwissRollRaw(n, new Random(3));
        int middle = 0;
        for (int i = 0; i < n; i++)
        {
            double x = raw[2 * i], y = raw[2 * i + 1], t = Math.Sqrt(x * x + y * y);
            Assert.InRange(t, 1.5 * Math.PI - 1e-9, 4.5 * Math.PI + 1e-9);
            Assert.Equal(x, t * Math.Cos(t), 1e-9);
            Assert.Equal(y, t * Math.Sin(t), 1e-9);
            if (t >= 2.5 * Math.PI && t < 3.5 * Math.PI) middle++;
        }
        Assert.InRange(middle / (double)n, 0.24, 0.26);
    }

    [Theory]
    [InlineData("swiss-roll")]
    [InlineData("moons")]
    [InlineData("circles")]
    [InlineData("8gaussians")]
    [InlineData("checkerboard")]
    [InlineData("spirals")]
    [InlineData("gaussian")]
    public void EveryDatasetIsSeededFiniteAndBounded(string name)
    {
        using var a = ToyDatasets.Sample(name, 1000, seed: 4);
        using var b = ToyDatasets.Sample(name, 1000, seed: 4);
        using var c = ToyDatasets.Sample(name, 1000, seed: 5);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.NotEqual(a.data<float>().ToArray(), c.data<float>().ToArray());
        Assert.All(a.data<float>().ToArray(), f => Assert.InRange(f, -10f, 10f));
    }

    [Fact]
    public void TwoComponentSetsAreShuffledSoTheirFirstPointsHoldBoth()
    {
        // A sampler started from the first k points of a draw (a Schrödinger bridge's start, a sum2048 subset) must see both
        // components. Circles: radius 3 or 1.5; moons: the outer moon's x is in [−3, 1], the inner one's in [−1, 3].
        using var circles = ToyDatasets.Sample("circles", 5000, seed: 3).narrow(0, 0, 500);
        var outer = circles.square().sum(1).sqrt().gt(2.25).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(outer, 0.4, 0.6); // a binomial share of 500 has standard error 0.022
        using var moons = ToyDatasets.Sample("moons", 5000, seed: 3).narrow(0, 0, 500);
        Assert.InRange(moons.select(1, 0).mean().item<float>(), -0.3, 0.3); // ordered, the first 500 would average about −1
    }

    [Fact]
    public void GaussianIsTheStandardNormal()
    {
        // 20,000 points: each coordinate's mean within 4/√20000 ≈ 0.03 of 0, its variance within 4·√(2/20000) = 0.04 of 1
        using var x = ToyDatasets.Sample("gaussian", 20_000, seed: 1).to_type(ScalarType.Float64);
        foreach (var m in x.mean([0]).data<double>().ToArray()) Assert.InRange(m, -0.03, 0.03);
        foreach (var v in x.var(0).data<double>().ToArray()) Assert.InRange(v, 0.96, 1.04);
    }

    [Fact]
    public void BadArgumentsGiveClearErrors()
    {
        Assert.Contains("unknown dataset 'nope'", Assert.Throws<DiffusionLabException>(() => ToyDatasets.Sample("nope", 10, 0)).Message);
        Assert.Contains("must be positive", Assert.Throws<DiffusionLabException>(() => ToyDatasets.Sample("moons", 0, 0)).Message);
    }

    [Fact]
    public void CsvRoundTripsAndRejectsBadRows()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-csv").FullName;
        var path = Path.Combine(dir, "p.csv");
        using var x = ToyDatasets.Sample("moons", 50, seed: 2);
        PointCsv.Write(x, path);
        Assert.Equal("x,y", File.ReadLines(path).First());
        using var back = PointCsv.Read(path);
        Assert.Equal(x.data<float>().ToArray(), back.data<float>().ToArray());

        File.WriteAllText(path, "x,y\n1,2\n3,abc\n");
        Assert.Equal($"{path} line 3: 'abc' is not a finite number", Assert.Throws<DiffusionLabException>(() => PointCsv.Read(path)).Message);
        File.WriteAllText(path, "x,y\n1,2,3\n");
        Assert.Contains("line 2: expected 2 values, got 3", Assert.Throws<DiffusionLabException>(() => PointCsv.Read(path)).Message);
        File.WriteAllText(path, "x,y\n");
        Assert.Contains("has no points", Assert.Throws<DiffusionLabException>(() => PointCsv.Read(path)).Message);
        Assert.StartsWith("points file not found", Assert.Throws<DiffusionLabException>(() => PointCsv.Read(Path.Combine(dir, "none.csv"))).Message);
    }
}
