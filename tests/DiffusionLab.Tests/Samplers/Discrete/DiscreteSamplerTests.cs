using DiffusionLab.Denoisers;
using DiffusionLab.Diffusion;
using DiffusionLab.Models;
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
