using System.Globalization;
using DiffusionLab.Conditioning;
using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using DiffusionLab.Runs;
using DiffusionLab.Runtime;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Training;

namespace DiffusionLab.Benchmarks;

// The bench's cases on the CS180 U-Net: Trainer steps, their phases, guided DDPM steps.
public static partial class PerformanceBench
{
    /// <summary>
    /// Training steps of the class-conditioned CS180 U-Net with hidden width D through <see cref="Trainer"/> (the
    /// preset's Adam, EMA and learning-rate schedule, label dropout 0.1, T = 300) on a fixed batch, so data loading is
    /// not timed. Work per image is counted as 3 × the forward FLOPs (backward ≈ 2 × forward).
    /// </summary>
    public static BenchResult TrainUNet(BenchOptions o, Device device, int hidden)
    {
        using var f = UNetTraining(o, device, hidden);
        var (net, model, x, labels) = (f.Net, f.Model, f.X, f.Labels);
        double pUncond = f.Preset.PUncond;
        var layout = ConvolutionLayout.ForNetwork(net, x.shape, training: true, o.Precision, device);
        using var use = ConvolutionLayout.Use(layout.ChannelsLast);
        var seconds = TimedTrainerSteps(net, f.Shadow, gen => model.Loss(x, gen, labels, pUncond), f.Preset.Training with { Seed = o.Seed, Precision = o.Precision }, o, o.TrainStepsPerRepeat);
        var r = Timing.Rate($"train-d{hidden}", "img/s", (double)o.TrainBatch * o.TrainStepsPerRepeat, seconds);
        long parameters = net.parameters().Sum(p => p.numel());
        return r with
        {
            Gflops = r.Median * 3 * Cs180UNet.ForwardFlops(f.Config) / 1e9,
            Detail = string.Create(CultureInfo.InvariantCulture, $"batch {o.TrainBatch}, {parameters:N0} parameters, Adam + EMA{PrecisionNote(o)}; {layout.Describe()}"),
        };
    }

    /// <summary>
    /// Where a training step of <see cref="TrainUNet"/> spends its time: the same network, loss, Adam and EMA, phase by
    /// phase (<see cref="TimedPhases"/>).
    /// </summary>
    public static IReadOnlyList<BenchResult> TrainPhases(BenchOptions o, Device device, int hidden)
    {
        using var f = UNetTraining(o, device, hidden);
        var (model, x, labels, pUncond) = (f.Model, f.X, f.Labels, f.Preset.PUncond);
        return TimedPhases($"phases-d{hidden}", f.Net, f.Shadow, x.shape, gen => model.Loss(x, gen, labels, pUncond), f.Preset.Training,
            o.TrainBatch * Cs180UNet.ForwardFlops(f.Config), $"batch {o.TrainBatch}", o, device, o.TrainStepsPerRepeat);
    }

    /// <summary>
    /// A training step timed phase by phase, in a loop that does what <see cref="Trainer"/>'s step does and stamps the
    /// clock between its phases — forward (the loss, read back to the host), backward, and the update (gradient clipping
    /// where the recipe clips, Adam, EMA) — as seconds per step. The forward and backward shares are each compared with
    /// the matmul peak (backward ≈ 2 × forward FLOPs); <paramref name="stepFlops"/> is one step's forward arithmetic.
    /// </summary>
    private static IReadOnlyList<BenchResult> TimedPhases(
        string name, nn.Module<Tensor, Tensor, Tensor> net, nn.Module shadow, long[] inputShape, Func<Generator, Tensor> lossOf,
        TrainingOptions training, double stepFlops, string batchNote, BenchOptions o, Device device, int k)
    {
        var ema = new Ema(net, shadow, training.EmaDecay);
        var parameters = net.parameters().ToList();
        using var optimizer = torch.optim.Adam(parameters, lr: training.LearningRate);
        var layout = ConvolutionLayout.ForNetwork(net, inputShape, training: true, o.Precision, device);
        using var use = ConvolutionLayout.Use(layout.ChannelsLast);
        net.train();
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
                foreach (var group in optimizer.ParamGroups) group.LearningRate = training.LearningRateAt(step);
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                optimizer.zero_grad();
                Tensor loss;
                using (MixedPrecision.Enter(o.Precision, net)) loss = lossOf(TensorOps.SeededGenerator(o.Seed * 1_000_003 + step));
                loss.item<float>();
                long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                loss.backward();
                parameters[0].grad!.sum().item<float>(); // wait for the gradients (asynchronous devices)
                long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
                if (training.GradClip > 0) Trainer.ClipGradientNorm(parameters, training.GradClip);
                optimizer.step();
                ema.Update(step, training.EmaWarmup);
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
        var fr = Timing.Time($"{name}-forward", "s/step", k, forward);
        var br = Timing.Time($"{name}-backward", "s/step", k, backward);
        var ur = Timing.Time($"{name}-update", "s/step", k, update);
        string note = $"{batchNote}{PrecisionNote(o)}; {layout.Describe()}";
        string updateNote = (training.GradClip > 0 ? "clipping + " : "") + "Adam + EMA";
        return
        [
            fr with { Gflops = stepFlops / fr.Median / 1e9, Detail = $"the loss, read back; {note}" },
            br with { Gflops = 2 * stepFlops / br.Median / 1e9, Detail = $"backward ≈ 2 × forward FLOPs; {note}" },
            ur with { Detail = $"{updateNote} on {parameters.Sum(p => p.numel()):N0} parameters" },
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
        const int perRepeat = 2;
        var (seconds, layout) = TimedGuidedSteps(net, preset, config.NumClasses, [o.GuidedBatch, 1, 28, 28], o, device, perRepeat);
        var r = Timing.Time($"guided-step-d{hidden}", "s/step", perRepeat, seconds);
        return r with
        {
            Gflops = 2.0 * o.GuidedBatch * Cs180UNet.ForwardFlops(config) / r.Median / 1e9,
            Detail = $"batch {o.GuidedBatch} (cond + uncond = {2 * o.GuidedBatch} per forward, encoder shared), γ = {ClassifierFreeGuidance.DefaultScale}{PrecisionNote(o)}; {layout.Describe()}",
        };
    }

    /// <summary>
    /// Times guided DDPM steps (γ = <see cref="ClassifierFreeGuidance.DefaultScale"/>) of <paramref name="net"/> as the
    /// ε-model of <paramref name="preset"/>'s schedule, from seeded noise of <paramref name="shape"/> and random labels
    /// among <paramref name="classes"/>, stamping the clock after each step: the seconds of each repeat of
    /// <paramref name="perRepeat"/> steps after the warm-up steps, in the convolution layout chosen for a forward pass on the
    /// doubled batch (returned too).
    /// </summary>
    private static (double[] Seconds, ConvolutionLayout.Choice Layout) TimedGuidedSteps(nn.Module<Tensor, Tensor, Tensor> net, ImageRunConfig preset, int classes, long[] shape, BenchOptions o, Device device, int perRepeat)
    {
        net.to(device);
        net.eval();
        using var unconditioned = EpsilonModel(net, preset.Schedule, preset.DiffusionSteps, device);
        var g = TensorOps.SeededGenerator(o.Seed);
        using var labels = torch.randint(0, classes, [shape[0]], generator: g).to(device);
        using var model = unconditioned.With(new ClassifierFreeGuidance(labels, ClassifierFreeGuidance.DefaultScale));
        using var noise = torch.randn(shape, generator: g).to(device);
        int steps = o.Warmup + o.Repeats * perRepeat;
        var stamps = new List<long>();
        var layout = ConvolutionLayout.ForNetwork(net, [2 * shape[0], .. shape[1..]], training: false, o.Precision, device);
        using var use = ConvolutionLayout.Use(layout.ChannelsLast);
        using var precision = MixedPrecision.Enter(o.Precision, net);
        var result = new DdpmSampler().Sample(model, noise, steps, g, (_, x) => { x.sum().item<float>(); stamps.Add(System.Diagnostics.Stopwatch.GetTimestamp()); });
        result.Samples.Dispose();
        return (RepeatSeconds(stamps, o.Warmup, o.Repeats, perRepeat), layout);
    }
}
