using DiffusionLab.Denoisers;
using DiffusionLab.Diffusion;
using DiffusionLab.Models;
using DiffusionLab.Samplers;
using DiffusionLab.Samplers.Discrete;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.Schedules;

namespace DiffusionLab.Tests.Samplers.Discrete;

public class DiscreteSamplerTests
{
    private static DiscreteModel UntrainedModel(int steps, Parameterisation p = Parameterisation.Epsilon)
    {
        torch.manual_seed(0);
        var net = new ToyMlp(new ToyMlpConfig(Width: 32, Depth: 2, TimeDim: 16));
        net.eval();
        return new DiscreteModel(S.Linear(steps), new Denoiser(net, p));
    }

    [Fact]
    public void DdimWithEtaOneOverAllStepsIsDdpm()
    {
        // With η = 1, DDIM's σ equals √β̃_t and its update is algebraically the posterior mean of Ho et al. eq. 7:
        // given the same noise draws, both samplers produce the same samples (not only the same distribution).
        using var model = UntrainedModel(100);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var noise = torch.randn(256, 2, generator: new Generator(5));
        var ddpm = new DdpmSampler().Sample(model, noise, 100, new Generator(9)).Samples;
        var ddim = new DdimSampler(eta: 1).Sample(model, noise, 100, new Generator(9)).Samples;
        Assert.True((ddpm - ddim).abs().max().item<float>() < 1e-3, $"max diff {(ddpm - ddim).abs().max().item<float>()}");
    }

    [Fact]
    public void DdimWithEtaZeroIsDeterministicForAFixedNoise()
    {
        using var model = UntrainedModel(100);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var noise = torch.randn(64, 2, generator: new Generator(5));
        var a = new DdimSampler(eta: 0).Sample(model, noise, 20, new Generator(1)).Samples;
        var b = new DdimSampler(eta: 0).Sample(model, noise, 20, new Generator(2)).Samples;
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        var c = new DdimSampler(eta: 0.5).Sample(model, noise, 20, new Generator(1)).Samples;
        var d = new DdimSampler(eta: 0.5).Sample(model, noise, 20, new Generator(2)).Samples;
        Assert.NotEqual(c.data<float>().ToArray(), d.data<float>().ToArray());
    }

    [Fact]
    public void DdimTimestepsAreTheSeedsStridedSequence()
    {
        var taus = DdimSampler.Timesteps(1000, 50);
        Assert.Equal(50, taus.Length);
        Assert.Equal(981, taus[0]);   // 0-based 980
        Assert.Equal(961, taus[1]);   // 0-based 960
        Assert.Equal(1, taus[^1]);    // 0-based 0
        Assert.Throws<DiffusionLabException>(() => DdimSampler.Timesteps(1000, 0));
        Assert.Throws<DiffusionLabException>(() => DdimSampler.Timesteps(1000, 1001));
    }

    [Fact]
    public void StridedDdpmIsDdimWithEtaOneOnTheSameSteps()
    {
        // Seed 002's strided "iterative denoising" uses α_t = ᾱ_t/ᾱ_t' over the strided steps; its posterior mean and
        // variance equal DDIM's η = 1 update on the same sub-sequence (Song et al. 2021, eq. 16), draw for draw.
        using var model = UntrainedModel(100);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var noise = torch.randn(128, 2, generator: new Generator(5));
        var ddpm = new DdpmSampler().Sample(model, noise, 20, new Generator(9));
        var ddim = new DdimSampler(eta: 1).Sample(model, noise, 20, new Generator(9)).Samples;
        Assert.Equal(20, ddpm.FunctionEvaluations);
        Assert.True((ddpm.Samples - ddim).abs().max().item<float>() < 1e-3);
        // the β-variance (CS180) update adds more noise, so it must differ
        var beta = new DdpmSampler(useBetaVariance: true).Sample(model, noise, 20, new Generator(9)).Samples;
        Assert.True((beta - ddim).abs().max().item<float>() > 1e-2);
    }

    [Fact]
    public void DdpmRejectsMoreStepsThanTheSchedule()
    {
        using var model = UntrainedModel(50);
        using var noise = torch.randn(4, 2);
        Assert.Throws<DiffusionLabException>(() => new DdpmSampler().Sample(model, noise, 51));
    }

    [Fact]
    public void SamplersReportTheirEvaluationsAndLeakNoTensors()
    {
        using var model = UntrainedModel(60);
        using var _ = torch.no_grad();
        using var noise = torch.randn(16, 2, generator: new Generator(3));
        // Warm up once so lazily created tensors are not counted.
        new DdimSampler().Sample(model, noise, 5).Samples.Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var r = new DdimSampler().Sample(model, noise, 30, new Generator(1));
        var d = new DdpmSampler().Sample(model, noise, 60, new Generator(1));
        Assert.Equal(30, r.FunctionEvaluations);
        Assert.Equal(60, d.FunctionEvaluations);
        r.Samples.Dispose();
        d.Samples.Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}

/// <summary>An exact ε-network for Gaussian data x_0 ~ N(μ, s²) under a discrete schedule: ε*(x_t) = σ(x_t − αμ)/(α²s² + σ²).</summary>
internal sealed class GaussianEpsilonNetwork(DiffusionLab.Schedules.NoiseSchedule schedule, double mean, double std)
    : nn.Module<Tensor, Tensor, Tensor>("GaussianEpsilonNetwork")
{
    public override Tensor forward(Tensor x, Tensor time)
    {
        using var scope = torch.NewDisposeScope();
        var steps = (time * schedule.Steps).round().to_type(ScalarType.Int64);
        var ab = torch.tensor(steps.data<long>().Select(t => schedule.AlphaBar((int)t)).ToArray(), dtype: x.dtype);
        var alpha = TensorOps.ToRankOf(ab.sqrt(), x);
        var sigma = TensorOps.ToRankOf((1 - ab).sqrt(), x);
        return (sigma * (x - alpha * mean) / (alpha.square() * (std * std) + sigma.square())).MoveToOuterDisposeScope();
    }
}

public class FastSamplerTests
{
    [Fact]
    public void DpmSolverPlusPlusSolvesTheProbabilityFlowOdeOfGaussianDataBetterThanDdim()
    {
        // For x_0 ~ N(μ, s²) the probability-flow ODE keeps z = (x_t − α_t μ)/√(α_t² s² + σ_t²) constant, so the exact
        // solution from x_T is x_0 = μ + s z (a closed form, independent of any sampler).
        using var scope = torch.NewDisposeScope();
        var schedule = S.Linear(1000);
        using var model = GaussianModel(schedule);
        var noise = torch.randn(4096, 1, generator: new Generator(2), dtype: ScalarType.Float64);
        int tStart = DdimSampler.Timesteps(1000, 10)[0];
        var exact = DdimExact(noise, schedule, tStart);
        double Error(ISampler<DiscreteModel> sampler, int steps)
        {
            // every sampler starts at its own first step; compare with the exact solution from that step
            int t0 = DdimSampler.Timesteps(1000, steps)[0];
            var target = DdimExact(noise, schedule, t0);
            return (sampler.Sample(model, noise, steps).Samples - target).abs().max().item<double>();
        }
        Assert.True(exact.isfinite().all().item<bool>());
        double dpm50 = Error(new DpmSolverPlusPlusSampler(), 50), ddim50 = Error(new DdimSampler(), 50);
        double dpm100 = Error(new DpmSolverPlusPlusSampler(), 100), ddim100 = Error(new DdimSampler(), 100);
        // second order against DDIM's first: far smaller errors at the same steps, and faster convergence
        Assert.True(dpm50 < ddim50 / 3, $"DPM-Solver++ 50 steps {dpm50} vs DDIM 50 steps {ddim50}");
        Assert.True(dpm100 < ddim100 / 10, $"DPM-Solver++ 100 steps {dpm100} vs DDIM 100 steps {ddim100}");
        Assert.True(dpm100 < dpm50 / 4, $"{dpm100} vs {dpm50}: not second order");
        Assert.True(ddim100 > ddim50 / 3, $"{ddim100} vs {ddim50}: DDIM is first order");
        // one step is first order: x̂_0 of the first x, exactly DDIM's single step
        var one = new DpmSolverPlusPlusSampler().Sample(model, noise, 1).Samples;
        Assert.True((one - new DdimSampler().Sample(model, noise, 1).Samples).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void HeunKarrasSolvesTheProbabilityFlowOdeOfGaussianDataToSecondOrder()
    {
        // Same closed form as above, from t = T where the Karras levels start: x_0 = μ + s (x_T − √ᾱ_T μ)/√(ᾱ_T s² + 1 − ᾱ_T).
        using var scope = torch.NewDisposeScope();
        var schedule = S.Linear(1000);
        using var model = GaussianModel(schedule);
        var noise = torch.randn(4096, 1, generator: new Generator(3), dtype: ScalarType.Float64);
        var exact = DdimExact(noise, schedule, 1000);
        var sampler = new HeunKarrasSampler();
        double Error(int levels) => (sampler.Sample(model, noise, levels).Samples - exact).abs().max().item<double>();
        // the linear schedule's σ runs from 157 to 0.01, so few levels are coarse; the error falls ~4× per doubling
        double e10 = Error(10), e20 = Error(20), e40 = Error(40), e80 = Error(80);
        Assert.True(e20 < e10 / 3 && e40 < e20 / 3 && e80 < e40 / 3, $"errors at 10, 20, 40, 80 levels: {e10}, {e20}, {e40}, {e80} (second order: ÷4 per doubling)");
        Assert.True(e80 < 5e-3, $"80 levels (159 evaluations): {e80}");
        // 2N − 1 network evaluations; the levels run from σ_T down to σ_1 (EDM eq. 5, ρ = 7), closer together at low noise
        Assert.Equal(19, sampler.Sample(model, noise, 10).FunctionEvaluations);
        var levels = HeunKarrasSampler.KarrasSteps(schedule, 10);
        Assert.Equal(1000, levels[0]);
        Assert.Equal(1, levels[^1]);
        Assert.True(levels.Zip(levels.Skip(1)).All(p => p.First > p.Second));
        Assert.True(levels[^2] - levels[^1] < levels[0] - levels[1], string.Join(",", levels));
        Assert.Throws<DiffusionLabException>(() => HeunKarrasSampler.KarrasSteps(schedule, 0));
    }

    [Fact]
    public void TheFactoryBuildsEveryNamedSamplerAndCountsItsEvaluations()
    {
        var schedule = S.Linear(300);
        foreach (var name in DiscreteSamplers.Names) Assert.Equal(name, DiscreteSamplers.Create(name).Name);
        Assert.Contains("unknown sampler 'euler'", Assert.Throws<DiffusionLabException>(() => DiscreteSamplers.Create("euler")).Message);
        Assert.Equal(50, DiscreteSamplers.FunctionEvaluations("ddim", schedule, 50));
        Assert.Equal(2 * HeunKarrasSampler.KarrasSteps(schedule, 10).Length - 1, DiscreteSamplers.FunctionEvaluations("heun-karras", schedule, 10));
        // budgets: Heun gets ⌈(k + 1)/2⌉ levels (at least 2), i.e. at most k evaluations
        foreach (int k in new[] { 3, 5, 10, 20, 300 })
        {
            Assert.Equal(k, DiscreteSamplers.StepsForBudget("dpm++2m", k));
            Assert.True(DiscreteSamplers.FunctionEvaluations("heun-karras", schedule, DiscreteSamplers.StepsForBudget("heun-karras", k)) <= k);
        }
    }

    private const double Mu = 0.7, Std = 0.3;

    /// <summary>The exact ε-predictor of data x_0 ~ N(μ, s²) with μ = 0.7, s = 0.3.</summary>
    private static DiscreteModel GaussianModel(DiffusionLab.Schedules.NoiseSchedule schedule) =>
        new(schedule, new Denoiser(new GaussianEpsilonNetwork(schedule, Mu, Std), Parameterisation.Epsilon));

    private static Tensor DdimExact(Tensor xT, DiffusionLab.Schedules.NoiseSchedule schedule, int t, double mu = Mu, double s = Std)
    {
        double ab = schedule.AlphaBar(t);
        double v = Math.Sqrt(ab * s * s + (1 - ab));
        return mu + s * (xT - Math.Sqrt(ab) * mu) / v;
    }
}
