using DiffusionLab.Samplers;
using DiffusionLab.Samplers.Sde;
using DiffusionLab.Sde;
using DiffusionLab.Tests.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Samplers.Sde;

public class SdeSamplersTests
{
    private static readonly double[] Mu = [1.0, -0.5];
    private const double DataStd = 0.5;

    private static ISampler<ScoreModel> Sampler(string name) => name switch
    {
        "pc-em" => new PredictorCorrectorSampler(PcPredictor.EulerMaruyama, correctorSteps: 2),
        _ => SdeSamplers.Create(name),
    };

    [Theory]
    [InlineData("em", 400, 400)]
    [InlineData("pc", 200, 400)]
    [InlineData("pc-em", 200, 600)]
    [InlineData("ode-euler", 400, 400)]
    [InlineData("ode-heun", 100, 199)]
    [InlineData("ode-rk45", 1000, -1)]
    public void SamplesFromTheExactScoreHaveTheDataMoments(string name, int steps, int expectedNfe)
    {
        // Data N(μ, s²I) under the VP SDE: the exact score of p_t is −(x − αμ)/(α²s² + σ²).
        var sde = new VpSde();
        var model = GaussianScoreNetwork.Model(sde, Mu, DataStd);
        using var scope = torch.NewDisposeScope();
        const int n = 4000;
        var noise = sde.PriorSample([n, 2], new Generator(1));
        var r = Sampler(name).Sample(model, noise, steps, new Generator(2));
        Assert.Equal(noise.shape, r.Samples.shape);
        if (expectedNfe > 0) Assert.Equal(expectedNfe, r.FunctionEvaluations);
        else Assert.True(r.FunctionEvaluations > 0);
        var mean = r.Samples.mean([0]).data<float>().ToArray();
        var std = r.Samples.std(0).data<float>().ToArray();
        for (int d = 0; d < 2; d++)
        {
            // 5 standard errors of the mean (s/√n ≈ 0.008) and of the std (s/√(2n) ≈ 0.0056), plus discretisation.
            Assert.True(Math.Abs(mean[d] - Mu[d]) < 0.05, $"{name}: mean[{d}] = {mean[d]}");
            Assert.True(Math.Abs(std[d] - DataStd) < 0.04, $"{name}: std[{d}] = {std[d]}");
        }
    }

    [Fact]
    public void ProbabilityFlowSolversConvergeToTheExactOdeSolution()
    {
        // For Gaussian data the PF ODE is solvable: with y = x − α(t)μ and v = α²s² + σ², dy/dt = (½ d log v/dt)·y,
        // so x_ε = α(ε)μ + √(v(ε)/v(T))·(x_T − α(T)μ).
        var sde = new VpSde();
        var model = GaussianScoreNetwork.Model(sde, Mu, DataStd);
        using var scope = torch.NewDisposeScope();
        var noise = sde.PriorSample([256, 2], new Generator(3));
        double Alpha(double t) => sde.MeanCoefficient(torch.tensor(new[] { t })).item<double>();
        double Var(double t) => Alpha(t) * Alpha(t) * DataStd * DataStd + Math.Pow(sde.MarginalStd(torch.tensor(new[] { t })).item<double>(), 2);
        double end = SdeSampling.DefaultEndTime;
        var mu = torch.tensor(Mu, dtype: ScalarType.Float32).reshape(1, 2);
        var exact = Alpha(end) * mu + Math.Sqrt(Var(end) / Var(1.0)) * (noise - Alpha(1.0) * mu);
        double Error(ISampler<ScoreModel> s, int steps) => (s.Sample(model, noise, steps).Samples - exact).abs().max().item<float>();
        // Halving the step shrinks Euler's error by about 2 (first order) and Heun's by about 4 (second order).
        double euler100 = Error(new ProbabilityFlowEulerSampler(), 100), euler200 = Error(new ProbabilityFlowEulerSampler(), 200);
        double heun50 = Error(new ProbabilityFlowHeunSampler(), 50), heun100 = Error(new ProbabilityFlowHeunSampler(), 100);
        double rk45 = Error(new ProbabilityFlowRk45Sampler(), 1000);
        Assert.InRange(euler100 / euler200, 1.6, 2.4);
        Assert.InRange(heun50 / heun100, 3.0, 5.0);
        Assert.True(heun100 < euler200, $"heun {heun100} vs euler {euler200} at about 200 evaluations");
        Assert.True(rk45 < 1e-4, $"rk45 {rk45}");
    }

    [Fact]
    public void Rk45SpendsFewerEvaluationsAtLooserTolerances()
    {
        var sde = new VpSde();
        var model = GaussianScoreNetwork.Model(sde, Mu, DataStd);
        using var scope = torch.NewDisposeScope();
        var noise = sde.PriorSample([64, 2], new Generator(4));
        int tight = new ProbabilityFlowRk45Sampler(rtol: 1e-5, atol: 1e-5).Sample(model, noise, 1000).FunctionEvaluations;
        int loose = new ProbabilityFlowRk45Sampler(rtol: 1e-3, atol: 1e-3).Sample(model, noise, 1000).FunctionEvaluations;
        Assert.True(loose > 0 && loose < tight, $"loose {loose}, tight {tight}");
        Assert.Equal(0, (tight - 2) % 6); // 2 to start, then 6 per attempted step (first same as last)
        var e = Assert.Throws<DiffusionLabException>(() => new ProbabilityFlowRk45Sampler().Sample(model, noise, 3));
        Assert.Contains("steps = 3", e.Message); // the library names its parameter; the CLI says --steps
        Assert.Contains("`steps` = 3", e.Template);
    }

    [Theory]
    [InlineData("em", true)]
    [InlineData("pc", true)]
    [InlineData("pc-em", true)]
    [InlineData("ode-euler", false)]
    [InlineData("ode-heun", false)]
    [InlineData("ode-rk45", false)]
    public void SameSeedSameSamples(string name, bool stochastic)
    {
        var sde = new VeSde();
        var model = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        using var scope = torch.NewDisposeScope();
        var noise = sde.PriorSample([32, 2], new Generator(5));
        var sampler = Sampler(name);
        var a = sampler.Sample(model, noise, 20, new Generator(6)).Samples.data<float>().ToArray();
        var b = sampler.Sample(model, noise, 20, new Generator(6)).Samples.data<float>().ToArray();
        var c = sampler.Sample(model, noise, 20, new Generator(7)).Samples.data<float>().ToArray();
        Assert.Equal(a, b);
        if (stochastic) Assert.NotEqual(a, c);
        else Assert.Equal(a, c);
        Assert.All(a, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData("em")]
    [InlineData("pc")]
    [InlineData("pc-em")]
    [InlineData("ode-euler")]
    [InlineData("ode-heun")]
    [InlineData("ode-rk45")]
    public void SamplersLeakNoTensorsWorkOnAnyRankAndLeaveTheNoiseAlone(string name)
    {
        // Images-shaped data [B, C, H, W] under the sub-VP SDE, with an onStep callback that only looks.
        var sde = new SubVpSde();
        var model = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        var sampler = Sampler(name);
        using var noise = sde.PriorSample([4, 2, 3, 3], new Generator(8));
        var before = noise.data<float>().ToArray();
        int steps = name == "ode-rk45" ? 500 : 10; // for RK45 only a cap on its adaptive steps
        sampler.Sample(model, noise, steps, new Generator(9)).Samples.Dispose(); // warm-up
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        int calls = 0;
        var r = sampler.Sample(model, noise, steps, new Generator(9), (i, x) => { calls++; Assert.Equal(noise.shape, x.shape); });
        Assert.Equal(noise.shape, r.Samples.shape);
        Assert.True(calls > 0);
        r.Samples.Dispose();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(before, noise.data<float>().ToArray());
        Assert.False(noise.IsInvalid);
    }

    [Fact]
    public void Rk45ReturnsTheNoiseDtypeAndLeavesFloat64NoiseUsable()
    {
        // The solver's state is float64 internally; a float64 noise must neither be disposed nor aliased into the result.
        var sde = new VpSde();
        var model = GaussianScoreNetwork.Model(sde, Mu, DataStd);
        using var noise = sde.PriorSample([16, 2], new Generator(10)).to_type(ScalarType.Float64);
        int calls = 0;
        using var samples = new ProbabilityFlowRk45Sampler().Sample(model, noise, 1000, onStep: (i, x) => calls++).Samples;
        Assert.Equal(ScalarType.Float64, samples.dtype);
        Assert.False(noise.IsInvalid);
        Assert.True(calls > 0);
        Assert.True((samples - noise).abs().max().item<double>() > 0.1); // the result is not the untouched noise
        Assert.True(double.IsFinite(noise.sum().item<double>()));
    }

    [Fact]
    public void BadSettingsThrowDiffusionLabException()
    {
        var sde = new OrnsteinUhlenbeckSde();
        var model = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        using var noise = torch.randn(4, 2);
        Assert.Throws<DiffusionLabException>(() => new EulerMaruyamaSampler().Sample(model, noise, 0));
        Assert.Throws<DiffusionLabException>(() => new EulerMaruyamaSampler(endTime: 20).Sample(model, noise, 10));
        Assert.Throws<DiffusionLabException>(() => new PredictorCorrectorSampler(snr: 0));
        Assert.Throws<DiffusionLabException>(() => new PredictorCorrectorSampler(correctorSteps: -1));
        Assert.Throws<DiffusionLabException>(() => new ProbabilityFlowRk45Sampler(rtol: 0));
        using var flat = torch.randn(4);
        Assert.Throws<DiffusionLabException>(() => new ProbabilityFlowEulerSampler().Sample(model, flat, 10));
    }

    [Fact]
    public void TheTimeGridRunsUniformlyFromTToTheEndTime()
    {
        var grid = SdeSampling.TimeGrid(new OrnsteinUhlenbeckSde(), 1e-3, 4);
        Assert.Equal(5, grid.Length);
        Assert.Equal(10.0, grid[0]);
        Assert.Equal(1e-3, grid[^1]);
        Assert.Equal(10.0 - (10.0 - 1e-3) / 4, grid[1], 1e-12);
    }

    [Fact]
    public void EverySdeSamplerIsNamedByItsRegistryName()
    {
        foreach (var name in SdeSamplers.Names) Assert.Equal(name, SdeSamplers.Create(name).Name);
        Assert.Contains("unknown sampler 'pf-euler'", Assert.Throws<DiffusionLabException>(() => SdeSamplers.Create("pf-euler")).Message);
    }
}
