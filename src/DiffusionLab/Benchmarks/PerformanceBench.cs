using DiffusionLab.Conditioning;
using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using DiffusionLab.Runs;
using DiffusionLab.Runtime;
using DiffusionLab.Training;

namespace DiffusionLab.Benchmarks;

/// <summary>Sizes and repeat counts of <see cref="PerformanceBench"/>; the defaults are the issue's workloads.</summary>
public sealed record BenchOptions
{
    /// <summary>Case names to run (null = all of <see cref="PerformanceBench.Cases"/>).</summary>
    public IReadOnlyList<string>? Only { get; init; }
    public int Repeats { get; init; } = 5;
    public int Warmup { get; init; } = 1;
    /// <summary>Side of the square fp32 matrices of the matmul peak.</summary>
    public int MatmulSize { get; init; } = 1024;
    /// <summary>Channels and image side of the 3×3 convolution peak (the CS180 U-Net's widest layer at D = 64).</summary>
    public int ConvChannels { get; init; } = 64;
    public int ConvSize { get; init; } = 28;
    /// <summary>Training batch of the U-Net cases and the convolution peak (the CS180 recipe: 128).</summary>
    public int TrainBatch { get; init; } = 128;
    /// <summary>Images per guided sampling step (each is run twice, conditional and unconditional, in one batch).</summary>
    public int GuidedBatch { get; init; } = 100;
    /// <summary>U-Net training steps per timed repeat.</summary>
    public int TrainStepsPerRepeat { get; init; } = 3;
    /// <summary>Batch of the attention U-Net cases, training and guided sampling alike (the unet preset: 64).</summary>
    public int DdpmUNetBatch { get; init; } = 64;
    /// <summary>Base channels of the attention U-Net cases (the unet preset: 64; smaller only to keep tests fast).</summary>
    public int DdpmUNetCh { get; init; } = 64;
    /// <summary>Points of the 2-D sampling cases.</summary>
    public int Points { get; init; } = 2000;
    /// <summary>Batch of the 2-D MLP training case (the toy default: 1024).</summary>
    public int MlpBatch { get; init; } = 1024;
    /// <summary>Steps of the DDPM 2-D sampling case (the toy default: 1000).</summary>
    public int ToySteps { get; init; } = 1000;
    public long Seed { get; init; }
    /// <summary>
    /// "fp32", or "bf16": the U-Net cases under bfloat16 <see cref="MixedPrecision"/> and the matmul peak in bfloat16, so
    /// the share of peak compares like with like (benchmarks/peers runs the peer under torch.autocast).
    /// </summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>Tiny sizes for tests: every case runs in well under a second.</summary>
    public static BenchOptions Quick => new()
    {
        Repeats = 2, Warmup = 1, MatmulSize = 64, ConvChannels = 4, ConvSize = 8, TrainBatch = 4, GuidedBatch = 2, TrainStepsPerRepeat = 1, DdpmUNetBatch = 2, DdpmUNetCh = 16, Points = 16, MlpBatch = 16, ToySteps = 20,
    };
}

/// <summary>
/// <c>difflab bench</c>: the machine's matmul and 3×3-convolution peaks, then DiffusionLab's own workloads through the
/// same code paths a user runs — <see cref="Trainer"/> steps of the CS180 class U-Net and of the unet preset's attention
/// U-Net, guided DDPM steps of both, the 2-D MLP's training and sampling — each as median/min/max over timed repeats,
/// with the U-Net figures also as a share of the matmul peak. benchmarks/peers/ holds the same workloads in PyTorch.
/// </summary>
public static partial class PerformanceBench
{
    public static readonly IReadOnlyList<string> Cases =
        ["matmul", "conv3x3", "train-d32", "train-d64", "guided-step-d64", "train-unet32", "guided-step-unet32", "mlp-train", "ddpm-2d", "ddim50-2d", "phases-d64", "phases-unet32"];

    /// <summary>Runs the selected cases in order, reporting each result as soon as it is measured.</summary>
    public static IReadOnlyList<BenchResult> Run(BenchOptions options, Device? device = null, Action<BenchResult>? onResult = null)
    {
        NativeRuntime.Configure();
        device ??= CPU;
        var only = options.Only ?? Cases;
        foreach (var name in only)
            if (!Cases.Contains(name)) throw new DiffusionLabException($"unknown benchmark '{name}' (choose from {string.Join(", ", Cases)})");
        if (options.Warmup < 1) throw new DiffusionLabException($"`Warmup` must be at least 1, got {options.Warmup}");
        MixedPrecision.Parse(options.Precision);
        var results = new List<BenchResult>();
        double? peak = null;
        void Add(BenchResult r)
        {
            if (r.Gflops is double g && peak is double p) r = r with { PercentOfPeak = 100 * g / p };
            results.Add(r);
            onResult?.Invoke(r);
        }
        // the peak is needed for the percentages: measured first, also when only U-Net cases were asked for
        bool needsPeak = only.Any(c => c.StartsWith("train", StringComparison.Ordinal) || c.StartsWith("guided", StringComparison.Ordinal) || c.StartsWith("phases", StringComparison.Ordinal));
        if (only.Contains("matmul") || needsPeak)
        {
            var m = Matmul(options, device);
            peak = m.Gflops;
            if (only.Contains("matmul")) Add(m);
        }
        foreach (var name in only)
        {
            switch (name)
            {
                case "conv3x3": Add(Conv3x3(options, device)); break;
                case "train-d32": Add(TrainUNet(options, device, 32)); break;
                case "train-d64": Add(TrainUNet(options, device, 64)); break;
                case "guided-step-d64": Add(GuidedStep(options, device, 64)); break;
                case "train-unet32": Add(TrainDdpmUNet(options, device)); break;
                case "guided-step-unet32": Add(GuidedDdpmUNetStep(options, device)); break;
                case "mlp-train": Add(MlpTrain(options, device)); break;
                case "ddpm-2d": Add(ToySampling(options, device, ddim: false)); break;
                case "ddim50-2d": Add(ToySampling(options, device, ddim: true)); break;
                case "phases-d64": foreach (var r in TrainPhases(options, device, 64)) Add(r); break;
                case "phases-unet32": foreach (var r in TrainDdpmUNetPhases(options, device)) Add(r); break;
            }
        }
        return results;
    }

    private static string PrecisionNote(BenchOptions o) => o.Precision == "fp32" ? "" : $", {o.Precision} mixed precision";

    /// <summary>
    /// What a U-Net training case trains: a preset's network (<typeparamref name="TConfig"/> describes it) and its EMA
    /// shadow, seeded alike, its ε-model on the preset's schedule, and a fixed batch of uniform images with random labels.
    /// </summary>
    private sealed class TrainingFixture<TNet, TConfig> : IDisposable where TNet : nn.Module<Tensor, Tensor, Tensor>
    {
        public ImageRunConfig Preset { get; }
        public TConfig Config { get; }
        public TNet Net { get; }
        public TNet Shadow { get; }
        public DiscreteModel Model { get; }
        public Tensor X { get; }
        public Tensor Labels { get; }

        public TrainingFixture(BenchOptions o, Device device, ImageRunConfig preset, TConfig config, Func<TConfig, TNet> build, long[] batchShape, int classes)
        {
            (Preset, Config) = (preset, config);
            torch.manual_seed(o.Seed);
            Net = build(config);
            Shadow = build(config);
            Net.to(device);
            Shadow.to(device);
            Model = EpsilonModel(Net, preset.Schedule, preset.DiffusionSteps, device);
            var g = TensorOps.SeededGenerator(o.Seed);
            using var uniform = torch.rand(batchShape, generator: g);
            X = (uniform * 2 - 1).to(device);
            Labels = torch.randint(0, classes, [batchShape[0]], generator: g).to(device);
        }

        public void Dispose()
        {
            Labels.Dispose();
            X.Dispose();
            Model.Dispose();
            Shadow.Dispose();
            Net.Dispose();
        }
    }

    /// <summary>What both CS180 U-Net training cases train: the cs180-class preset's network of width D on MNIST-sized batches.</summary>
    private static TrainingFixture<Cs180UNet, Cs180UNetConfig> UNetTraining(BenchOptions o, Device device, int hidden) =>
        new(o, device, ImageRunConfig.Preset("cs180-class"), ClassUNet(hidden), c => new Cs180UNet(c), [o.TrainBatch, 1, 28, 28], 10);

    /// <summary>The MNIST-sized class-conditioned CS180 U-Net of hidden width D (1 channel, 28 px, 10 classes).</summary>
    private static Cs180UNetConfig ClassUNet(int hidden) => new(Cs180Variant.Class, 1, hidden, 28, 10);

    /// <summary>An ε-predicting discrete model of <paramref name="net"/> on the named schedule of T steps.</summary>
    private static DiscreteModel EpsilonModel(nn.Module<Tensor, Tensor, Tensor> net, string schedule, int steps, Device device) =>
        new(Schedules.NoiseSchedules.Create(schedule, steps), new Denoiser(net, Parameterisation.Epsilon), device);

    /// <summary>
    /// Times training through <see cref="Trainer.Train(nn.Module, nn.Module?, Func{Generator, Tensor}, TrainingOptions, string, bool, Action{TrainingLogEntry}?, Func{bool}?, Action{long, nn.Module}?, Action{long}?, Runtime.ICommunicator?)"/>
    /// itself, stamping the clock in its after-step callback; the final checkpoint is written after the last stamp.
    /// </summary>
    private static double[] TimedTrainerSteps(nn.Module net, nn.Module shadow, Func<Generator, Tensor> loss, TrainingOptions training, BenchOptions o, int perRepeat)
    {
        int steps = o.Warmup + o.Repeats * perRepeat;
        var stamps = new List<long>();
        var dir = Path.Combine(Path.GetTempPath(), $"difflab-bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Trainer.Train(net, shadow, loss, training with { Steps = steps, CheckpointEvery = int.MaxValue, LogEvery = int.MaxValue }, dir,
                onStep: _ => stamps.Add(System.Diagnostics.Stopwatch.GetTimestamp()));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        return RepeatSeconds(stamps, o.Warmup, o.Repeats, perRepeat);
    }

    /// <summary>Seconds of each repeat from the timestamps taken after every step: repeat r spans the steps warm-up + r·k + 1 … warm-up + (r + 1)·k.</summary>
    private static double[] RepeatSeconds(IReadOnlyList<long> stamps, int warmup, int repeats, int perRepeat) =>
        Enumerable.Range(0, repeats)
            .Select(r => (stamps[warmup + (r + 1) * perRepeat - 1] - stamps[warmup + r * perRepeat - 1]) / (double)System.Diagnostics.Stopwatch.Frequency)
            .ToArray();
}
