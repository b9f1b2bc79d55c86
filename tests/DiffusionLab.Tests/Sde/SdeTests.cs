using DiffusionLab.Schedules;
using DiffusionLab.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Sde;

public class SdeTests
{
    private static Tensor Times(params double[] t) => torch.tensor(t, dtype: ScalarType.Float64);

    private static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();

    [Theory]
    [InlineData("ou")]
    [InlineData("vp")]
    [InlineData("subvp")]
    [InlineData("ve")]
    public void ClosedFormMarginalsMatchAForwardEulerMaruyamaRun(string name)
    {
        // Simulate dx = f dt + g dW from a fixed x_0 with 1000 Euler–Maruyama steps to T (using the SDE's own f and g)
        // and compare the empirical moments at t = T/2 and t = T with the kernel N(α(t) x_0, σ(t)² I).
        var sde = SdeFactory.Create(name);
        using var scope = torch.NewDisposeScope();
        // 16,000 points keep each [n, 2] op under ATen's parallel grain (32,768 elements): no OpenMP threads to spin on a busy machine.
        const int n = 16000, steps = 1000;
        double dt = sde.EndTime / steps;
        var x0 = new[] { 1.5, -2.0 };
        var x = torch.tensor(x0, dtype: ScalarType.Float32).reshape(1, 2).expand(n, 2).contiguous();
        var g = new Generator(11);
        for (int i = 0; i < steps; i++)
        {
            using (var step = torch.NewDisposeScope())
            {
                var t = torch.full(1, i * dt, dtype: ScalarType.Float64); // one time for all: [1, 1] broadcasts over [n, 2]
                var dw = torch.randn(n, 2, generator: g) * Math.Sqrt(dt);
                var next = x + sde.Drift(x, t) * dt + TensorOps.ToRankOf(sde.Diffusion(t), x) * dw;
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
            }
            if (i + 1 == steps / 2 || i + 1 == steps) CheckMoments(sde, x, (i + 1) * dt, x0);
        }
    }

    private static void CheckMoments(ISde sde, Tensor x, double t, double[] x0)
    {
        long n = x.shape[0];
        double alpha = Values(sde.MeanCoefficient(Times(t)))[0], sigma = Values(sde.MarginalStd(Times(t)))[0];
        var mean = Values(x.mean([0]));
        var std = Values(x.std(0));
        for (int d = 0; d < x0.Length; d++)
        {
            double meanTol = 5 * sigma / Math.Sqrt(n) + 0.01 * Math.Abs(alpha * x0[d]); // sampling error + discretisation
            double stdTol = 5 * sigma / Math.Sqrt(2.0 * n) + 0.01 * sigma;
            Assert.True(Math.Abs(mean[d] - alpha * x0[d]) < meanTol, $"{sde.Name} t={t}: mean {mean[d]:G5} vs {alpha * x0[d]:G5}");
            Assert.True(Math.Abs(std[d] - sigma) < stdTol, $"{sde.Name} t={t}: std {std[d]:G5} vs {sigma:G5}");
        }
    }

    [Theory]
    [InlineData("ou")]
    [InlineData("vp")]
    [InlineData("subvp")]
    [InlineData("ve")]
    public void DriftAndDiffusionAreConsistentWithTheKernel(string name)
    {
        // For f = a(t)x the kernel obeys d log α/dt = a and dσ²/dt = 2aσ² + g² (Särkkä & Solin 2019, eq. 5.51);
        // check both with central differences in float64.
        var sde = SdeFactory.Create(name);
        using var scope = torch.NewDisposeScope();
        const double h = 1e-6;
        foreach (double frac in new[] { 0.05, 0.3, 0.7, 0.95 })
        {
            double t = frac * sde.EndTime;
            double LogAlpha(double s) => Math.Log(Values(sde.MeanCoefficient(Times(s)))[0]);
            double Var(double s) => Math.Pow(Values(sde.MarginalStd(Times(s)))[0], 2);
            double a = (LogAlpha(t + h) - LogAlpha(t - h)) / (2 * h);
            double dVar = (Var(t + h) - Var(t - h)) / (2 * h);
            var x = torch.ones(1, 3, dtype: ScalarType.Float64);
            double drift = Values(sde.Drift(x, Times(t)))[0];
            double g = Values(sde.Diffusion(Times(t)))[0];
            Assert.Equal(a, drift, 1e-5 * Math.Max(1, Math.Abs(a)));
            Assert.Equal(dVar, 2 * a * Var(t) + g * g, 1e-5 * Math.Max(1, dVar));
        }
    }

    [Fact]
    public void VpMarginalsAreTheLimitOfTheDiscreteDdpmProcess()
    {
        // score_sde's correspondence: β_i = (β_min + (i−1)/(N−1)·(β_max − β_min))/N, i = 1..N, and ᾱ_i ≈ α_VP(i/N)².
        var sde = new VpSde();
        var errors = new List<double>();
        foreach (int n in new[] { 100, 1000, 10000 })
        {
            var betas = Enumerable.Range(1, n).Select(i => (sde.BetaMin + (i - 1.0) / (n - 1) * (sde.BetaMax - sde.BetaMin)) / n).ToArray();
            var schedule = new NoiseSchedule("vp", betas);
            using var scope = torch.NewDisposeScope();
            var t = torch.tensor(Enumerable.Range(1, n).Select(i => (double)i / n).ToArray(), dtype: ScalarType.Float64);
            var alpha2 = Values(sde.MeanCoefficient(t).square());
            errors.Add(Enumerable.Range(1, n).Max(i => Math.Abs(schedule.AlphaBar(i) - alpha2[i - 1])));
        }
        Assert.True(errors[1] < errors[0] && errors[2] < errors[1], $"errors {string.Join(", ", errors)}");
        Assert.True(errors[1] < 1e-3, $"N=1000: {errors[1]}");
    }

    [Fact]
    public void SubVpHasTheVpMeanAndASmallerStdAndDiffusion()
    {
        var vp = new VpSde();
        var sub = new SubVpSde();
        using var scope = torch.NewDisposeScope();
        var t = torch.linspace(1e-4, 1, 200, dtype: ScalarType.Float64);
        Assert.Equal(Values(vp.MeanCoefficient(t)), Values(sub.MeanCoefficient(t)));
        var vpStd = Values(vp.MarginalStd(t));
        var subStd = Values(sub.MarginalStd(t));
        var vpG = Values(vp.Diffusion(t));
        var subG = Values(sub.Diffusion(t));
        for (int i = 0; i < vpStd.Length; i++)
        {
            Assert.True(subStd[i] <= vpStd[i] + 1e-12, $"t index {i}: {subStd[i]} > {vpStd[i]}");
            Assert.True(subG[i] <= vpG[i] + 1e-12);
        }
    }

    [Fact]
    public void VePriorHasStdSigmaMax()
    {
        var sde = new VeSde();
        using var scope = torch.NewDisposeScope();
        Assert.Equal(50.0, Values(sde.MarginalStd(Times(1.0)))[0], 1e-9);
        Assert.Equal(0.01, Values(sde.MarginalStd(Times(0.0)))[0], 1e-12);
        Assert.Equal(1.0, Values(sde.MeanCoefficient(Times(0.3)))[0]);
        const int n = 20000;
        var z = sde.PriorSample([n, 2], new Generator(3));
        Assert.Equal(ScalarType.Float32, z.dtype);
        double std = z.to_type(ScalarType.Float64).std().item<double>();
        Assert.InRange(std, 50 * (1 - 5 / Math.Sqrt(4.0 * n)), 50 * (1 + 5 / Math.Sqrt(4.0 * n)));
    }

    [Theory]
    [InlineData("ou", 1.0)]
    [InlineData("vp", 1.0)]
    [InlineData("subvp", 1.0)]
    [InlineData("ve", 50.0)]
    public void PriorLogProbIsTheGaussianDensitySummedOverNonBatchDims(string name, double std)
    {
        var sde = SdeFactory.Create(name);
        using var scope = torch.NewDisposeScope();
        var z = torch.randn(3, 2, 2, 5, dtype: ScalarType.Float64, generator: new Generator(4)) * std;
        var logp = Values(sde.PriorLogProb(z));
        Assert.Equal(3, logp.Length);
        var zs = Values(z);
        for (int b = 0; b < 3; b++)
        {
            double expected = zs.Skip(b * 20).Take(20).Sum(v => -0.5 * Math.Log(2 * Math.PI * std * std) - v * v / (2 * std * std));
            Assert.Equal(expected, logp[b], 1e-9);
        }
    }

    [Theory]
    [InlineData("ou")]
    [InlineData("vp")]
    [InlineData("subvp")]
    [InlineData("ve")]
    public void PerSampleTimesBroadcastOverAnyRank(string name)
    {
        var sde = SdeFactory.Create(name);
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(2, 3, 4, 5);
        var t = torch.tensor(new[] { 0.1f, 0.9f }) * (float)sde.EndTime;
        var drift = sde.Drift(x, t);
        Assert.Equal(x.shape, drift.shape);
        var xt = sde.PerturbSample(x, t, torch.zeros_like(x));
        Assert.Equal(x.shape, xt.shape);
        var alpha = Values(sde.MeanCoefficient(t));
        Assert.Equal(alpha[0], xt[0].mean().item<float>(), 1e-6);
        Assert.Equal(alpha[1], xt[1].mean().item<float>(), 1e-6);
        Assert.Equal(new long[] { 2 }, sde.Diffusion(t).shape);
        Assert.Equal(ScalarType.Float32, sde.MarginalStd(t).dtype);
        Assert.Equal(new long[] { 2 }, sde.PriorLogProb(x).shape);
    }

    [Fact]
    public void SmallTimesKeepTheirPrecisionInFloat32()
    {
        // σ(t)² = 1 − α(t)² loses every digit near t = 0 if computed as 1 − exp(…) in float32.
        var sde = new VpSde();
        using var scope = torch.NewDisposeScope();
        double t = 1e-5;
        double sigma32 = sde.MarginalStd(torch.tensor(new[] { (float)t })).item<float>();
        double logAlpha = -0.25 * t * t * (sde.BetaMax - sde.BetaMin) - 0.5 * t * sde.BetaMin;
        double y = 2 * logAlpha;
        double exact = Math.Sqrt(-y * (1 + y / 2 + y * y / 6)); // −expm1(y) by its series, exact to double precision here
        Assert.Equal(exact, sigma32, exact * 1e-5);
    }

    [Fact]
    public void FactoryKnowsTheFourSdesAndRejectsOthers()
    {
        Assert.IsType<OrnsteinUhlenbeckSde>(SdeFactory.Create("ou"));
        Assert.IsType<VpSde>(SdeFactory.Create("VP"));
        Assert.IsType<SubVpSde>(SdeFactory.Create("subvp"));
        Assert.IsType<VeSde>(SdeFactory.Create("ve"));
        Assert.Equal(10.0, SdeFactory.Create("ou").EndTime);
        var e = Assert.Throws<DiffusionLabException>(() => SdeFactory.Create("edm"));
        Assert.Contains("unknown SDE 'edm'", e.Message);
        Assert.Contains("ou, vp, subvp, ve", e.Message);
        Assert.Throws<DiffusionLabException>(() => new VeSde(sigmaMin: 1, sigmaMax: 0.5));
        Assert.Throws<DiffusionLabException>(() => new VpSde(betaMin: 5, betaMax: 1));
        Assert.Throws<DiffusionLabException>(() => new OrnsteinUhlenbeckSde(endTime: 0));
    }
}
