using System.Globalization;
using DiffusionLab.Data;
using DiffusionLab.Denoisers;
using DiffusionLab.Runs;
using DiffusionLab.Models;
using DiffusionLab.Runtime;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Training;
using DiffusionLab.Conditioning;

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
        Repeats = 2, Warmup = 1, MatmulSize = 64, ConvChannels = 4, ConvSize = 8, TrainBatch = 4, GuidedBatch = 2, TrainStepsPerRepeat = 1, Points = 16, MlpBatch = 16, ToySteps = 20,
    };
}

/// <summary>
/// <c>difflab bench</c>: the machine's matmul and 3×3-convolution peaks, then DiffusionLab's own workloads through the
/// same code paths a user runs — <see cref="Trainer"/> steps of the CS180 class U-Net, guided DDPM steps, the 2-D MLP's
/// training and sampling — each as median/min/max over timed repeats, with the U-Net figures also as a share of the
/// matmul peak. benchmarks/peers/ holds the same workloads in PyTorch.
/// </summary>
public static class PerformanceBench
{
    public static readonly IReadOnlyList<string> Cases =
        ["matmul", "conv3x3", "train-d32", "train-d64", "guided-step-d64", "mlp-train", "ddpm-2d", "ddim50-2d", "phases-d64"];

    /// <summary>Runs the selected cases in order, reporting each result as soon as it is measured.</summary>
    public static IReadOnlyList<BenchResult> Run(BenchOptions options, Device? device = null, Action<BenchResult>? onResult = null)
    {
        NativeRuntime.Configure();
        device ??= CPU;
        var only = options.Only ?? Cases;
        foreach (var name in only)
            if (!Cases.Contains(name)) throw new DiffusionLabException($"unknown benchmark '{name}' (choose from {string.Join(", ", Cases)})");
        if (options.Warmup < 1) throw new DiffusionLabException($"--warmup must be at least 1, got {options.Warmup}");
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
                case "mlp-train": Add(MlpTrain(options, device)); break;
                case "ddpm-2d": Add(ToySampling(options, device, ddim: false)); break;
                case "ddim50-2d": Add(ToySampling(options, device, ddim: true)); break;
                case "phases-d64": foreach (var r in TrainPhases(options, device, 64)) Add(r); break;
            }
        }
        return results;
    }

    /// <summary>n×n matrix products (fp32, or bf16 under <see cref="BenchOptions.Precision"/> bf16), 2n³ operations each.</summary>
    public static BenchResult Matmul(BenchOptions o, Device device)
    {
        int n = o.MatmulSize;
        const int perRepeat = 10;
        var type = MixedPrecision.Parse(o.Precision) ?? ScalarType.Float32;
        using var a = torch.randn([n, n], generator: TensorOps.SeededGenerator(o.Seed)).to(type).to(device);
        using var b = torch.randn([n, n], generator: TensorOps.SeededGenerator(o.Seed + 1)).to(type).to(device);
        using var noGrad = torch.no_grad();
        var seconds = Timing.Seconds(() =>
        {
            for (int i = 0; i < perRepeat; i++)
            {
                using var c = torch.mm(a, b);
                if (i == perRepeat - 1) c.sum().to_type(ScalarType.Float32).item<float>(); // wait for the result (asynchronous devices)
            }
        }, Math.Max(o.Warmup, 3), o.Repeats); // the peak: a longer warm-up (thread pool, CPU clock)
        double flops = 2.0 * n * n * n * perRepeat;
        var r = Timing.Rate("matmul", "GFLOP/s", flops / 1e9, seconds);
        return r with { Gflops = r.Median, Detail = $"{n}×{n} {o.Precision}, {perRepeat} products per repeat" };
    }

    /// <summary>A 3×3 convolution, stride 1, padding 1, of the CS180 U-Net's widest layer (64 → 64 channels at 28 px, batch 128).</summary>
    public static BenchResult Conv3x3(BenchOptions o, Device device)
    {
        int batch = o.TrainBatch, ch = o.ConvChannels, size = o.ConvSize;
        const int perRepeat = 3;
        using var x = torch.randn([batch, ch, size, size], generator: TensorOps.SeededGenerator(o.Seed)).to(device);
        using var w = (torch.randn([ch, ch, 3, 3], generator: TensorOps.SeededGenerator(o.Seed + 1)) * 0.05).to(device);
        using var noGrad = torch.no_grad();
        var seconds = Timing.Seconds(() =>
        {
            for (int i = 0; i < perRepeat; i++)
            {
                using var y = nn.functional.conv2d(x, w, padding: [1, 1]);
                if (i == perRepeat - 1) y.sum().item<float>();
            }
        }, o.Warmup, o.Repeats);
        double flops = 2.0 * batch * ch * ch * 9 * size * size * perRepeat;
        var r = Timing.Rate("conv3x3", "GFLOP/s", flops / 1e9, seconds);
        return r with { Gflops = r.Median, Detail = $"[{batch}, {ch}, {size}, {size}] ⊛ {ch}×{ch}×3×3, {perRepeat} per repeat" };
    }

    /// <summary>
    /// Training steps of the class-conditioned CS180 U-Net with hidden width D through <see cref="Trainer"/> (the
    /// preset's Adam, EMA and learning-rate schedule, label dropout 0.1, T = 300) on a fixed batch, so data loading is
    /// not timed. Work per image is counted as 3 × the forward FLOPs (backward ≈ 2 × forward).
    /// </summary>
    public static BenchResult TrainUNet(BenchOptions o, Device device, int hidden)
    {
        using var f = new UNetTraining(o, device, hidden);
        var (net, model, x, labels) = (f.Net, f.Model, f.X, f.Labels);
        double pUncond = f.Preset.PUncond;
        var seconds = TimedTrainerSteps(net, f.Shadow, gen => model.Loss(x, gen, labels, pUncond), f.Preset.Training with { Seed = o.Seed, Precision = o.Precision }, o, o.TrainStepsPerRepeat);
        var r = Timing.Rate($"train-d{hidden}", "img/s", (double)o.TrainBatch * o.TrainStepsPerRepeat, seconds);
        long parameters = net.parameters().Sum(p => p.numel());
        return r with
        {
            Gflops = r.Median * 3 * Cs180UNet.ForwardFlops(f.Config) / 1e9,
            Detail = string.Create(CultureInfo.InvariantCulture, $"batch {o.TrainBatch}, {parameters:N0} parameters, Adam + EMA{PrecisionNote(o)}"),
        };
    }

    /// <summary>
    /// Where a training step of <see cref="TrainUNet"/> spends its time: the same network, loss, Adam and EMA, in a loop
    /// that stamps the clock between the phases of <see cref="Trainer"/>'s step — forward (the loss, read back to the host),
    /// backward, and the update (Adam + EMA) — as seconds per step. The forward and backward shares are each compared with
    /// the matmul peak (backward ≈ 2 × forward FLOPs).
    /// </summary>
    public static IReadOnlyList<BenchResult> TrainPhases(BenchOptions o, Device device, int hidden)
    {
        using var fixture = new UNetTraining(o, device, hidden);
        var (net, shadow, model, x, labels, preset, config) = (fixture.Net, fixture.Shadow, fixture.Model, fixture.X, fixture.Labels, fixture.Preset, fixture.Config);
        var ema = new Ema(net, shadow, preset.Training.EmaDecay);
        var parameters = net.parameters().ToList();
        using var optimizer = torch.optim.Adam(parameters, lr: preset.Training.LearningRate);
        net.train();
        int k = o.TrainStepsPerRepeat;
        var forward = new List<double>();
        var backward = new List<double>();
        var update = new List<double>();
        long step = 0;
        for (int r = -o.Warmup; r < o.Repeats; r++)
        {
            double f = 0, b = 0, u = 0;
            for (int i = 0; i < k; i++, step++)
            {
                using var scope = torch.NewDisposeScope();
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                optimizer.zero_grad();
                Tensor loss;
                using (MixedPrecision.Enter(o.Precision, net)) loss = model.Loss(x, TensorOps.SeededGenerator(o.Seed * 1_000_003 + step), labels, preset.PUncond);
                loss.item<float>();
                long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                loss.backward();
                parameters[0].grad!.sum().item<float>(); // wait for the gradients (asynchronous devices)
                long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
                optimizer.step();
                ema.Update(step, preset.Training.EmaWarmup);
                shadow.parameters().First().sum().item<float>();
                long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
                double tick = System.Diagnostics.Stopwatch.Frequency;
                f += (t1 - t0) / tick;
                b += (t2 - t1) / tick;
                u += (t3 - t2) / tick;
            }
            if (r < 0) continue;
            forward.Add(f);
            backward.Add(b);
            update.Add(u);
        }
        double flops = o.TrainBatch * Cs180UNet.ForwardFlops(config);
        var fr = Timing.Time($"phases-d{hidden}-forward", "s/step", k, forward);
        var br = Timing.Time($"phases-d{hidden}-backward", "s/step", k, backward);
        var ur = Timing.Time($"phases-d{hidden}-update", "s/step", k, update);
        string note = $"batch {o.TrainBatch}{PrecisionNote(o)}";
        return
        [
            fr with { Gflops = flops / fr.Median / 1e9, Detail = $"the loss, read back; {note}" },
            br with { Gflops = 2 * flops / br.Median / 1e9, Detail = $"backward ≈ 2 × forward FLOPs; {note}" },
            ur with { Detail = $"Adam + EMA on {parameters.Sum(p => p.numel()):N0} parameters" },
        ];
    }

    /// <summary>
    /// Classifier-free guided DDPM steps (γ = 5) of the D-wide class U-Net: each step is one forward call on the
    /// conditional and unconditional halves together (2 × batch images; the class-free encoder runs once, see
    /// <see cref="Cs180UNet.ForwardPair"/>) plus the ancestral update. GFLOP/s counts the full 2 × batch forward — the
    /// work a plain batched call does — so a share above the plain call's is the saving.
    /// </summary>
    public static BenchResult GuidedStep(BenchOptions o, Device device, int hidden)
    {
        var preset = ImageRunConfig.Preset("cs180-class");
        var config = ClassUNet(hidden);
        torch.manual_seed(o.Seed);
        using var net = new Cs180UNet(config);
        net.to(device);
        net.eval();
        using var unconditioned = EpsilonModel(net, preset.Schedule, preset.DiffusionSteps, device);
        var g = TensorOps.SeededGenerator(o.Seed);
        using var labels = torch.randint(0, 10, [o.GuidedBatch], generator: g).to(device);
        using var model = unconditioned.With(new ClassifierFreeGuidance(labels, ClassifierFreeGuidance.DefaultScale));
        using var noise = torch.randn([o.GuidedBatch, 1, 28, 28], generator: g).to(device);
        const int perRepeat = 2;
        int steps = o.Warmup + o.Repeats * perRepeat;
        var stamps = new List<long>();
        using var precision = MixedPrecision.Enter(o.Precision, net);
        var result = new DdpmSampler().Sample(model, noise, steps, g, (_, x) => { x.sum().item<float>(); stamps.Add(System.Diagnostics.Stopwatch.GetTimestamp()); });
        result.Samples.Dispose();
        var seconds = RepeatSeconds(stamps, o.Warmup, o.Repeats, perRepeat);
        var r = Timing.Time($"guided-step-d{hidden}", "s/step", perRepeat, seconds);
        return r with
        {
            Gflops = 2.0 * o.GuidedBatch * Cs180UNet.ForwardFlops(config) / r.Median / 1e9,
            Detail = $"batch {o.GuidedBatch} (cond + uncond = {2 * o.GuidedBatch} per forward, encoder shared), γ = {ClassifierFreeGuidance.DefaultScale}{PrecisionNote(o)}",
        };
    }

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

    private static string PrecisionNote(BenchOptions o) => o.Precision == "fp32" ? "" : $", {o.Precision} mixed precision";

    /// <summary>What both U-Net training cases train: the cs180-class preset's network and EMA shadow, its ε-model, a fixed batch.</summary>
    private sealed class UNetTraining : IDisposable
    {
        public ImageRunConfig Preset { get; } = ImageRunConfig.Preset("cs180-class");
        public Cs180UNetConfig Config { get; }
        public Cs180UNet Net { get; }
        public Cs180UNet Shadow { get; }
        public DiscreteModel Model { get; }
        public Tensor X { get; }
        public Tensor Labels { get; }

        public UNetTraining(BenchOptions o, Device device, int hidden)
        {
            Config = ClassUNet(hidden);
            torch.manual_seed(o.Seed);
            Net = new Cs180UNet(Config);
            Shadow = new Cs180UNet(Config);
            Net.to(device);
            Shadow.to(device);
            Model = EpsilonModel(Net, Preset.Schedule, Preset.DiffusionSteps, device);
            var g = TensorOps.SeededGenerator(o.Seed);
            using var uniform = torch.rand([o.TrainBatch, 1, 28, 28], generator: g);
            X = (uniform * 2 - 1).to(device);
            Labels = torch.randint(0, 10, [o.TrainBatch], generator: g).to(device);
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

    /// <summary>The MNIST-sized class-conditioned CS180 U-Net of hidden width D (1 channel, 28 px, 10 classes).</summary>
    private static Cs180UNetConfig ClassUNet(int hidden) => new(Cs180Variant.Class, 1, hidden, 28, 10);

    /// <summary>An ε-predicting discrete model of <paramref name="net"/> on the named schedule of T steps.</summary>
    private static DiscreteModel EpsilonModel(nn.Module<Tensor, Tensor, Tensor> net, string schedule, int steps, Device device) =>
        new(Schedules.NoiseSchedules.Create(schedule, steps), new Denoiser(net, Parameterisation.Epsilon), device);

    /// <summary>
    /// Times training through <see cref="Trainer.Train(nn.Module, nn.Module?, Func{Generator, Tensor}, TrainingOptions, string, bool, Action{long, double}?, Func{bool}?, Action{long, nn.Module}?, Action{long}?)"/>
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
