using System.Text.Json;
using DiffusionLab.Bridges;
using DiffusionLab.Data;
using DiffusionLab.Denoisers;
using DiffusionLab.Losses;
using DiffusionLab.Models;
using DiffusionLab.Samplers;
using DiffusionLab.Samplers.Bridge;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Samplers.Sde;
using DiffusionLab.Sde;
using DiffusionLab.Training;

namespace DiffusionLab.Runs;

/// <summary>Sampler settings that are not the step count.</summary>
public sealed record ToySamplerOptions
{
    /// <summary>DDIM η.</summary>
    public double Eta { get; init; }
    /// <summary>Predictor–corrector signal-to-noise ratio.</summary>
    public double Snr { get; init; } = 0.16;
    /// <summary>RK45 relative and absolute tolerance.</summary>
    public double Tolerance { get; init; } = 1e-5;
    /// <summary>A Schrödinger bridge run backwards: from samples of the target data set to its source.</summary>
    public bool Backward { get; init; }
}

/// <summary>
/// A 2-D diffusion run: builds the network and the model (discrete DDPM, SDE or Schrödinger bridge) from a <see cref="ToyRunConfig"/>,
/// trains it with the shared <see cref="Trainer"/>, reloads it from a run folder and samples it with any sampler
/// that fits its process. The CLI's <c>toy train</c> and <c>toy sample</c> are thin shells over this class.
/// </summary>
public sealed class ToyRun : IDisposable
{
    public const string ConfigFile = "config.json";
    public static readonly IReadOnlyList<string> DiscreteSamplers = Samplers.Discrete.DiscreteSamplers.Names;
    public static readonly IReadOnlyList<string> SdeSamplers = Samplers.Sde.SdeSamplers.Names;
    public static readonly IReadOnlyList<string> BridgeSamplers = Samplers.Bridge.BridgeSamplers.Names;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private ToyRun(ToyRunConfig config, Device device)
    {
        config.Validate();
        Config = config;
        Device = device;
        Network = BuildNetwork(config);
        Network.to(device);
        if (config.Process == "bridge")
        {
            ToyDatasets.Sample(config.Source, 1, 0).Dispose(); // unknown source → clear error before any work
            Bridge = new SchrodingerBridge(Network, config.Mlp.DataDim, config.BridgeSigma);
            return;
        }
        var denoiser = new Denoiser(Network, PredictionMath.Parse(config.Prediction));
        if (config.Process == "ddpm")
            Discrete = new DiscreteModel(Schedules.NoiseSchedules.Create(config.Schedule, config.DiffusionSteps), denoiser, device);
        else
            Score = new ScoreModel(SdeFactory.Create(config.Sde), denoiser);
    }

    public ToyRunConfig Config { get; }
    public Device Device { get; }
    public nn.Module<Tensor, Tensor, Tensor> Network { get; }
    public DiscreteModel? Discrete { get; }
    public ScoreModel? Score { get; }
    public SchrodingerBridge? Bridge { get; }

    /// <summary>The data set that samples of this run should match: the target, or a bridge's source when it runs backwards.</summary>
    public string SampleDataset(bool backward) => backward && Bridge is not null ? Config.Source : Config.Dataset;

    public static ToyRun Create(ToyRunConfig config, Device? device = null) => new(config, device ?? CPU);

    /// <summary>Rebuilds a trained run from its folder, with the EMA weights (or the raw ones without EMA).</summary>
    public static ToyRun Load(string runDir, Device? device = null)
    {
        var configPath = Path.Combine(runDir, ConfigFile);
        var config = RunFolder.ReadConfig<ToyRunConfig>(runDir, ConfigFile, Json, (c, path) => c.Validate(path));
        ToyRun run;
        try { run = new ToyRun(config, device ?? CPU); }
        catch (DiffusionLabException e) { throw new DiffusionLabException($"{configPath}: {e.Message}", e); }
        Trainer.LoadWeights(Path.Combine(runDir, Trainer.CheckpointFile), run.Network);
        run.Network.eval();
        return run;
    }

    public static nn.Module<Tensor, Tensor, Tensor> BuildNetwork(ToyRunConfig c) =>
        c.Process == "bridge" ? new ToyMlp(c.Mlp with { OutputDim = 2 * c.Mlp.DataDim }) // a bridge reads a displacement and a noise
        : c.Network == "mlp" ? new ToyMlp(c.Mlp) : new TimeLinearMlp(c.TimeLinear);

    /// <summary>Trains (or resumes) into <paramref name="runDir"/>; the final weights are in its checkpoint.</summary>
    public IReadOnlyList<LossPoint> Train(string runDir, bool resume = false, Action<TrainingLogEntry>? onLog = null, Action<long>? onStep = null)
    {
        RunFolder.Prepare(runDir, ConfigFile, Config, Json, resume, "Training.Steps"); // the image runs' rules: no silent overwrite

        using var data = ToyDatasets.Sample(Config.Dataset, Config.DataSize, Config.Training.Seed).to(Device);
        // a bridge's source set is drawn with the next seed, so that a bridge between two draws of one data set pairs distinct points
        using var source = Bridge is null ? null : ToyDatasets.Sample(Config.Source, Config.DataSize, Config.Training.Seed + 1).to(Device);
        var lossFunction = MakeLoss(data, source);
        using var shadow = Config.Training.EmaDecay > 0 ? BuildNetwork(Config) : null;
        shadow?.to(Device);
        var history = Trainer.Train(Network, shadow, lossFunction, Config.Training, runDir, resume, onLog, onStep: onStep);
        Trainer.LoadWeights(Path.Combine(runDir, Trainer.CheckpointFile), Network); // sample with the EMA weights
        Network.eval();
        return history;
    }

    private Func<Generator, Tensor> MakeLoss(Tensor data, Tensor? source)
    {
        long n = data.shape[0];
        int b = Config.BatchSize;
        if (Bridge is not null)
            return g => Bridge.Loss(source!.index_select(0, torch.randint(0, n, [b], generator: g).to(Device)),
                data.index_select(0, torch.randint(0, n, [b], generator: g).to(Device)), g);
        if (Discrete is not null)
            return g => Discrete.Loss(data.index_select(0, torch.randint(0, n, [b], generator: g).to(Device)), g);
        IScoreLoss loss = Config.Loss switch
        {
            "dsm" => new DenoisingScoreMatching(),
            "ism" => new ImplicitScoreMatching(),
            "ssm" => new SlicedScoreMatching(),
            _ => throw new DiffusionLabException($"unknown loss '{Config.Loss}' (dsm, ism or ssm)"),
        };
        return g => loss.Compute(Score!, data.index_select(0, torch.randint(0, n, [b], generator: g).to(Device)), g);
    }

    /// <summary>Draws <paramref name="n"/> samples with the named sampler in <paramref name="steps"/> steps;
    /// <paramref name="onStep"/> sees the start points as step 0, then the points after each step.</summary>
    public SampleResult Sample(string sampler, int steps, int n, long seed, ToySamplerOptions? options = null, Action<int, Tensor>? onStep = null)
    {
        if (n < 1) throw new DiffusionLabException($"`n` must be positive, got {n}");
        if (steps < 1) throw new DiffusionLabException($"`steps` must be positive, got {steps}");
        options ??= new ToySamplerOptions();
        var generator = TensorOps.SeededGenerator(seed);
        int dim = Config.Network == "mlp" ? Config.Mlp.DataDim : Config.TimeLinear.DataDim;
        if (Bridge is not null)
        {
            if (!BridgeSamplers.Contains(sampler)) throw WrongSampler(sampler, BridgeSamplers);
            // the start points are fresh draws of the end the bridge leaves from, as a diffusion model draws fresh noise
            using var start = ToyDatasets.Sample(options.Backward ? Config.Dataset : Config.Source, n, seed).to(Device);
            onStep?.Invoke(0, start);
            return Samplers.Bridge.BridgeSamplers.Create(sampler, options.Backward).Sample(Bridge, start, steps, generator, onStep);
        }
        if (options.Backward) throw new DiffusionLabException("only a Schrödinger bridge runs backwards (this run is a " + Config.Process + " model)");
        if (Discrete is not null)
        {
            if (!Samplers.Discrete.DiscreteSamplers.Names.Contains(sampler)) throw WrongSampler(sampler, DiscreteSamplers);
            var s = Samplers.Discrete.DiscreteSamplers.Create(sampler, options.Eta);
            using var noise = torch.randn([n, dim], generator: generator).to(Device);
            onStep?.Invoke(0, noise);
            return s.Sample(Discrete, noise, steps, generator, onStep);
        }
        if (!SdeSamplers.Contains(sampler)) throw WrongSampler(sampler, SdeSamplers);
        var sde = Samplers.Sde.SdeSamplers.Create(sampler, options.Snr, options.Tolerance);
        using var prior = Score!.Sde.PriorSample([n, dim], generator).to(Device);
        onStep?.Invoke(0, prior);
        return sde.Sample(Score, prior, steps, generator, onStep);
    }

    private Exception WrongSampler(string sampler, IReadOnlyList<string> allowed) =>
        new DiffusionLabException($"sampler '{sampler}' does not fit a {Config.Process} model (choose from {string.Join(", ", allowed)})");

    public void Dispose()
    {
        Discrete?.Dispose();
        Network.Dispose();
    }
}
