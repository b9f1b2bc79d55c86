using DiffusionLab.Denoisers;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Schedules;
using TorchSharp;
using S = DiffusionLab.Schedules.NoiseSchedules;

namespace DiffusionLab.Tests.Schedules;

/// <summary>Step grids are values: the course assignments' strided grid, trailing spacing, Karras levels and explicit lists, and any
/// discrete sampler walks any of them.</summary>
public class StepGridTests
{
    [Fact]
    public void UniformIsTheSeedsStridedGridAndTrailingStartsAtT()
    {
        var uniform = StepGrid.Uniform(1000, 50);
        Assert.Equal(981, uniform[0]);          // 0-based 980 of the DDIM/CFG assignment
        Assert.Equal(1, uniform[^1]);
        Assert.Equal(50, uniform.Length);
        Assert.Equal([1000, 900, 800, 700, 600, 500, 400, 300, 200, 100], StepGrid.Trailing(1000, 10)); // Lin et al. 2024, Table 2
        Assert.Equal([300, 200, 100], StepGrid.Trailing(300, 3));
    }

    [Fact]
    public void KarrasLevelsFollowEdmsFormulaOnTheSchedulesSigmas()
    {
        var s = S.Linear(300);
        var grid = StepGrid.Karras(s, 10);
        Assert.Equal(300, grid[0]); // σ_max = σ_T
        Assert.Equal(1, grid[^1]);  // σ_min = σ_1
        // each level is the step whose σ_t is nearest (in log σ) to EDM eq. 5's σ_i, computed here independently
        double Sigma(int t) => Math.Sqrt((1 - s.AlphaBar(t)) / s.AlphaBar(t));
        double max = Math.Pow(Sigma(300), 1 / 7.0), min = Math.Pow(Sigma(1), 1 / 7.0);
        for (int i = 0; i < grid.Length; i++)
        {
            double target = Math.Pow(max + i / 9.0 * (min - max), 7);
            int nearest = Enumerable.Range(1, 300).MinBy(t => Math.Abs(Math.Log(Sigma(t)) - Math.Log(target)));
            Assert.Equal(nearest, grid[i]);
        }
    }

    [Fact]
    public void AnExplicitListIsCheckedAndBadGridsAreClearErrors()
    {
        var s = S.Linear(100);
        Assert.Equal([99, 50, 1], StepGrid.Create("list:99,50,1", s, 0));
        Assert.Contains("decrease strictly", Assert.Throws<DiffusionLabException>(() => StepGrid.Create("list:5,10", s, 0)).Message);
        Assert.Contains("outside the schedule's steps 1..100", Assert.Throws<DiffusionLabException>(() => StepGrid.Create("list:101,5", s, 0)).Message);
        Assert.Contains("unknown step grid", Assert.Throws<DiffusionLabException>(() => StepGrid.Create("cosine", s, 10)).Message);
        Assert.Contains("between 1 and the schedule's 100 steps", Assert.Throws<DiffusionLabException>(() => StepGrid.Uniform(100, 101)).Message);
    }

    [Fact]
    public void AnySamplerRunsOnAnyGridAndTheDefaultGridIsUnchanged()
    {
        using var scope = torch.NewDisposeScope();
        var s = S.Linear(100);
        // an exact denoiser of one point x* = 0.5: x̂_0 = x* for every x_t, so every sampler must land on it
        var net = new ConstantX0(0.5f);
        using var model = new DiscreteModel(s, new Denoiser(net, Parameterisation.X0));
        var noise = torch.randn(4, 2, generator: new torch.Generator(3));
        foreach (var name in DiscreteSamplers.Names)
            foreach (var grid in new[] { "uniform", "trailing", "karras", "list:100,60,30,10,1" })
            {
                var sampler = DiscreteSamplers.Create(name);
                var r = sampler.Sample(model, noise, StepGrid.Create(grid, s, 8));
                Assert.True((r.Samples - 0.5f).abs().max().item<float>() < 1e-4, $"{name} on {grid}");
            }
        // the count form is the default grid: DPM-Solver++ on uniform, Heun on Karras — byte for byte
        var dpm = new DpmSolverPlusPlusSampler();
        Assert.Equal(0, (dpm.Sample(model, noise, 8).Samples - dpm.Sample(model, noise, StepGrid.Uniform(100, 8)).Samples).abs().max().item<float>());
        var heun = new HeunKarrasSampler();
        Assert.Equal(StepGrid.Karras(s, 8), heun.DefaultGrid(s, 8));
        Assert.Equal(2 * StepGrid.Karras(s, 8).Length - 1, DiscreteSamplers.FunctionEvaluations("heun-karras", s, 8));
        Assert.Equal(2 * StepGrid.Uniform(100, 8).Length - 1, DiscreteSamplers.FunctionEvaluations("heun-karras", s, 8, "uniform"));
    }

    /// <summary>A "network" that predicts x_0 = c everywhere (an ideal denoiser of a one-point distribution).</summary>
    private sealed class ConstantX0(float c) : torch.nn.Module<torch.Tensor, torch.Tensor, torch.Tensor>("constant")
    {
        public override torch.Tensor forward(torch.Tensor x, torch.Tensor t) => torch.full_like(x, c);
    }
}
