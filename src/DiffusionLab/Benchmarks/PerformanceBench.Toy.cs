using DiffusionLab.Training;
using DiffusionLab.Data;
using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using DiffusionLab.Runs;
using DiffusionLab.Samplers.Discrete;

namespace DiffusionLab.Benchmarks;

// The bench's cases on the 2-D MLP: training steps and DDPM/DDIM sampling.
public static partial class PerformanceBench
{
    /// <summary>Training steps of the 2-D residual MLP (the toy defaults: width 128, depth 4, batch 1024, T = 1000) through <see cref="Trainer"/>.</summary>
    public static BenchResult MlpTrain(BenchOptions o, Device device)
    {
        var toy = new ToyRunConfig { BatchSize = o.MlpBatch };
        torch.manual_seed(o.Seed);
        using var net = new ToyMlp(toy.Mlp);
        using var shadow = new ToyMlp(toy.Mlp);
        net.to(device);
        shadow.to(device);
        using var model = EpsilonModel(net, toy.Schedule, toy.DiffusionSteps, device);
        using var data = ToyDatasets.Sample(toy.Dataset, 100_000, o.Seed).to(device);
        long n = data.shape[0];
        int b = toy.BatchSize;
        const int perRepeat = 20;
        // the same loss as ToyRun: a random batch of the fixed training set
        var seconds = TimedTrainerSteps(net, shadow, gen => model.Loss(data.index_select(0, torch.randint(0, n, [b], generator: gen).to(device)), gen),
            toy.Training with { Seed = o.Seed }, o, perRepeat);
        var r = Timing.Rate("mlp-train", "steps/s", perRepeat, seconds);
        return r with { Detail = $"batch {b}, {net.parameters().Sum(p => p.numel()):N0} parameters, Adam + EMA" };
    }

    /// <summary>Sampling <see cref="BenchOptions.Points"/> 2-D points with the toy MLP: ancestral DDPM over all T steps, or DDIM in 50.</summary>
    public static BenchResult ToySampling(BenchOptions o, Device device, bool ddim)
    {
        var toy = new ToyRunConfig { DiffusionSteps = o.ToySteps };
        torch.manual_seed(o.Seed);
        using var net = new ToyMlp(toy.Mlp);
        net.to(device);
        net.eval();
        using var model = EpsilonModel(net, toy.Schedule, toy.DiffusionSteps, device);
        using var noise = torch.randn([o.Points, 2], generator: TensorOps.SeededGenerator(o.Seed)).to(device);
        int steps = ddim ? Math.Min(50, toy.DiffusionSteps) : toy.DiffusionSteps;
        Samplers.ISampler<DiscreteModel> sampler = ddim ? new DdimSampler() : new DdpmSampler();
        var seconds = Timing.Seconds(() =>
        {
            using var r = sampler.Sample(model, noise, steps, TensorOps.SeededGenerator(o.Seed)).Samples;
            r.sum().item<float>();
        }, o.Warmup, o.Repeats);
        var result = Timing.Time(ddim ? "ddim50-2d" : "ddpm-2d", "s/run", 1, seconds);
        return result with { Detail = $"{o.Points} points, {steps} steps" };
    }
}
