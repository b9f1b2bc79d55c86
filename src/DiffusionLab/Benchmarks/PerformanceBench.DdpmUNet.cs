using System.Globalization;
using DiffusionLab.Conditioning;
using DiffusionLab.Data;
using DiffusionLab.Models;
using DiffusionLab.Runs;
using DiffusionLab.Runtime;
using DiffusionLab.Training;

namespace DiffusionLab.Benchmarks;

// The bench's cases on the 32×32 RGB attention U-Net of the unet preset (Ho et al. 2020, App. B, scaled down): Trainer
// steps and guided DDPM steps.
public static partial class PerformanceBench
{
    /// <summary>
    /// The unet preset and its network as <c>difflab train --dataset emoji --model unet</c> builds it: 3 channels, 32 px,
    /// class-conditioned on the emoji data set's 9 categories, base width <see cref="BenchOptions.DdpmUNetCh"/> (the
    /// preset's 64 outside the tests).
    /// </summary>
    private static (ImageRunConfig Preset, DdpmUNetConfig Config) DdpmUNetPreset(BenchOptions o)
    {
        var preset = ImageRunConfig.Preset("unet");
        return (preset, preset.UNet with
        {
            InChannels = preset.Channels, ImageSize = preset.ImageSize, Ch = o.DdpmUNetCh, NumClasses = EmojiDataset.ClassNames.Length,
        });
    }

    /// <summary>What both attention U-Net training cases train: the unet preset's network on batches of <see cref="BenchOptions.DdpmUNetBatch"/>.</summary>
    private static TrainingFixture<DdpmUNet, DdpmUNetConfig> DdpmUNetTraining(BenchOptions o, Device device)
    {
        var (preset, config) = DdpmUNetPreset(o);
        return new(o, device, preset, config, c => new DdpmUNet(c), [o.DdpmUNetBatch, config.InChannels, config.ImageSize, config.ImageSize], config.NumClasses);
    }

    /// <summary>
    /// Training steps of the unet preset's attention U-Net through <see cref="Trainer"/> — the preset's Adam (2e-4 after
    /// its linear warm-up), gradient clipping at 1, EMA 0.9999 with warm-up, dropout 0.1, label dropout 0.1, T = 1000 — on
    /// a fixed batch of <see cref="BenchOptions.DdpmUNetBatch"/> images, so data loading (and the preset's random flips)
    /// is not timed. One step per repeat: a step of batch 64 is about the work of a <c>train-d64</c> repeat (three steps of
    /// batch 128), ~0.55 TFLOP at the preset's width. Work per image
    /// is counted as 3 × <see cref="DdpmUNet.ForwardFlops"/> (backward ≈ 2 × forward).
    /// </summary>
    public static BenchResult TrainDdpmUNet(BenchOptions o, Device device)
    {
        using var f = DdpmUNetTraining(o, device);
        var (preset, config, net, shadow, model, x, labels) = (f.Preset, f.Config, f.Net, f.Shadow, f.Model, f.X, f.Labels);
        int b = o.DdpmUNetBatch;
        const int perRepeat = 1;
        var layout = ConvolutionLayout.ForNetwork(net, x.shape, training: true, o.Precision, device);
        using var use = ConvolutionLayout.Use(layout.ChannelsLast);
        var seconds = TimedTrainerSteps(net, shadow, gen => model.Loss(x, gen, labels, preset.PUncond),
            preset.Training with { Seed = o.Seed, Precision = o.Precision }, o, perRepeat);
        var r = Timing.Rate("train-unet32", "img/s", (double)b * perRepeat, seconds);
        long parameters = net.parameters().Sum(p => p.numel());
        return r with
        {
            Gflops = r.Median * 3 * DdpmUNet.ForwardFlops(config) / 1e9,
            Detail = string.Create(CultureInfo.InvariantCulture,
                $"batch {b}, {parameters:N0} parameters, ch {config.Ch}, attention at {string.Join(",", config.AttnResolutions)} px, Adam + clip + EMA{PrecisionNote(o)}; {layout.Describe()}"),
        };
    }

    /// <summary>
    /// Where a step of <see cref="TrainDdpmUNet"/> spends its time: the same network, batch, loss, clipping, Adam and EMA,
    /// phase by phase (<see cref="TimedPhases"/>), one step per repeat.
    /// </summary>
    public static IReadOnlyList<BenchResult> TrainDdpmUNetPhases(BenchOptions o, Device device)
    {
        using var f = DdpmUNetTraining(o, device);
        var (preset, config, net, shadow, model, x, labels) = (f.Preset, f.Config, f.Net, f.Shadow, f.Model, f.X, f.Labels);
        int b = o.DdpmUNetBatch;
        return TimedPhases("phases-unet32", net, shadow, x.shape, gen => model.Loss(x, gen, labels, preset.PUncond), preset.Training,
            b * DdpmUNet.ForwardFlops(config), $"batch {b}, ch {config.Ch}", o, device, 1);
    }

    /// <summary>
    /// Classifier-free guided DDPM steps (γ = 5) of the unet preset's attention U-Net, T = 1000: each step is one forward
    /// call on the conditional and unconditional halves together (2 × <see cref="BenchOptions.DdpmUNetBatch"/> images; this
    /// network has no class-free encoder to share, so the whole network sees the doubled batch) plus the ancestral update,
    /// one step per repeat. The figure is images × steps per second (guided images advanced one step), and GFLOP/s counts
    /// the 2 × batch forward.
    /// </summary>
    public static BenchResult GuidedDdpmUNetStep(BenchOptions o, Device device)
    {
        var (preset, config) = DdpmUNetPreset(o);
        int b = o.DdpmUNetBatch;
        torch.manual_seed(o.Seed);
        using var net = new DdpmUNet(config);
        const int perRepeat = 1;
        var (seconds, layout) = TimedGuidedSteps(net, preset, config.NumClasses, [b, config.InChannels, config.ImageSize, config.ImageSize], o, device, perRepeat);
        var r = Timing.Rate("guided-step-unet32", "img·steps/s", (double)b * perRepeat, seconds);
        return r with
        {
            Gflops = r.Median * 2 * DdpmUNet.ForwardFlops(config) / 1e9,
            Detail = $"batch {b} (cond + uncond = {2 * b} per forward), ch {config.Ch}, γ = {ClassifierFreeGuidance.DefaultScale}{PrecisionNote(o)}; {layout.Describe()}",
        };
    }
}
