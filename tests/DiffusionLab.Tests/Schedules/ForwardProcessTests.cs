using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;
using DiffusionLab.Schedules;

namespace DiffusionLab.Tests.Schedules;

public class ForwardProcessTests
{
    [Theory]
    [InlineData("linear", 1)]
    [InlineData("linear", 300)]
    [InlineData("cosine", 700)]
    [InlineData("sqrt", 999)]
    public void SampleHasTheMeanAndVarianceOfQ(string name, int step)
    {
        // q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I): check both moments over many draws of the same x_0.
        var s = S.Create(name, 1000);
        using var fp = new ForwardProcess(s);
        using var scope = torch.NewDisposeScope();
        const int n = 40000;
        var x0 = torch.tensor(new float[] { -1f, 0.3f, 0.9f }).reshape(1, 3).expand(n, 3);
        var t = torch.full(n, step, dtype: ScalarType.Int64);
        var xt = fp.Sample(x0, t, TensorOps.SeededGenerator(7)).to_type(ScalarType.Float64);
        var mean = xt.mean([0]).data<double>().ToArray();
        var variance = xt.var(0).data<double>().ToArray();
        double sd = s.SqrtOneMinusAlphaBar(step);
        var expectedMean = new[] { -1.0, 0.3, 0.9 }.Select(v => s.SqrtAlphaBar(step) * v).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.InRange(mean[i] - expectedMean[i], -5 * sd / Math.Sqrt(n), 5 * sd / Math.Sqrt(n));
            // Var of a sample variance ≈ 2σ⁴/n for a Gaussian.
            double tol = 5 * Math.Sqrt(2.0 / n) * sd * sd;
            Assert.InRange(variance[i] - sd * sd, -tol, tol);
        }
    }

    [Fact]
    public void BroadcastsPerSampleStepsOverAnyRank()
    {
        var s = S.Linear(100);
        using var fp = new ForwardProcess(s);
        using var scope = torch.NewDisposeScope();
        var x0 = torch.ones(2, 3, 4, 5);
        var noise = torch.zeros(2, 3, 4, 5);
        var xt = fp.Sample(x0, torch.tensor(new long[] { 0, 100 }), noise);
        Assert.Equal(new long[] { 2, 3, 4, 5 }, xt.shape);
        Assert.Equal(1.0, xt[0].mean().item<float>(), 1e-6);
        Assert.Equal(s.SqrtAlphaBar(100), xt[1].mean().item<float>(), 1e-6);
        var points = fp.Sample(torch.ones(4, 2), torch.tensor(new long[] { 0, 1, 2, 3 }), torch.ones(4, 2));
        Assert.Equal(s.SqrtAlphaBar(3) + s.SqrtOneMinusAlphaBar(3), points[3, 1].item<float>(), 1e-6);
    }

    [Fact]
    public void SameSeedSameSample()
    {
        var s = S.Cosine(50);
        using var fp = new ForwardProcess(s);
        using var x0 = torch.zeros(8, 2);
        using var t = torch.full(8, 25, dtype: ScalarType.Int64);
        using var a = fp.Sample(x0, t, TensorOps.SeededGenerator(3));
        using var b = fp.Sample(x0, t, TensorOps.SeededGenerator(3));
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }
}
