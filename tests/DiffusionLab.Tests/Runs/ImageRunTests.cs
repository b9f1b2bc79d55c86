using DiffusionLab.Runs;
using DiffusionLab.Training;
using TorchSharp;
using static TorchSharp.torch;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Tests.Runs;

public class ImageRunTests
{
    private static string Temp() => Directory.CreateTempSubdirectory("difflab-run").FullName;

    private static ImageRunConfig Tiny(string model = "cs180-class", int epochs = 3, int gridEvery = 0) => ImageRunConfig.Preset(model) with
    {
        Dataset = "bars", ImageSize = 8, Channels = 1, ClassNames = ["bar0", "bar1", "bar2", "bar3"], Hidden = 4, BatchSize = 16,
        Epochs = epochs, DiffusionSteps = 20, GridEvery = gridEvery,
        Training = ImageRunConfig.Preset(model).Training with { Seed = 5, LrGamma = Math.Pow(0.1, 1.0 / epochs) },
    };

    private static float[] Weights(ImageRun run) => run.Network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    [Fact]
    public void GuidanceDoublesTheEvaluationsOnlyWhenBothPassesAreNeeded()
    {
        // ε_u + γ(ε_c − ε_u): γ = 1 is ε_c alone and γ = 0 is ε_u alone; any other γ needs both
        Assert.Equal(2, ClassifierFreeGuidance.Passes(conditional: true, scale: 5));
        Assert.Equal(2, ClassifierFreeGuidance.Passes(conditional: true, scale: -0.5));
        Assert.Equal(1, ClassifierFreeGuidance.Passes(conditional: true, scale: 1));
        Assert.Equal(1, ClassifierFreeGuidance.Passes(conditional: true, scale: 0));
        Assert.Equal(1, ClassifierFreeGuidance.Passes(conditional: false, scale: 5));
    }

    [Fact]
    public void ResumeAfterAnInterruptionMatchesAnUninterruptedRun()
    {
        var data = TinyData.Bars(64);
        var a = Temp();
        IReadOnlyList<LossPoint> full;
        float[] fullWeights;
        using (var run = ImageRun.Create(Tiny()))
        {
            full = run.Train(data, a);
            fullWeights = Weights(run);
        }
        var b = Temp();
        int perEpoch = 64 / 16;
        int calls = 0;
        using (var run = ImageRun.Create(Tiny()))
            run.Train(data, b, shouldStop: () => ++calls == 2 * perEpoch); // "killed" after epoch 2
        Assert.Equal(2 * perEpoch, Trainer.CheckpointStep(Path.Combine(b, Trainer.CheckpointFile)));
        IReadOnlyList<LossPoint> resumed;
        float[] resumedWeights;
        using (var run = ImageRun.Create(Tiny()))
        {
            resumed = run.Train(data, b, resume: true);
            resumedWeights = Weights(run);
        }
        Assert.Equal(full.Select(p => (p.Step, p.Loss, p.LearningRate)), resumed.Select(p => (p.Step, p.Loss, p.LearningRate)));
        Assert.Equal(fullWeights, resumedWeights);
        Assert.Equal(File.ReadAllText(Path.Combine(a, "loss.csv")), File.ReadAllText(Path.Combine(b, "loss.csv")));
        // the exponential schedule stepped once per epoch: lr of the last epoch is lr0 · γ^(epochs − 1)
        Assert.Equal(1e-3 * Math.Pow(0.1, 2.0 / 3), full[^1].LearningRate, 12);
    }

    [Fact]
    public void AFinishedRunIsExtendedByResumingWithMoreEpochs()
    {
        var data = TinyData.Bars(32);
        var dir = Temp();
        using (var run = ImageRun.Create(Tiny(epochs: 1))) run.Train(data, dir);
        long firstEnd = Trainer.CheckpointStep(Path.Combine(dir, Trainer.CheckpointFile));
        using var longer = ImageRun.Create(Tiny(epochs: 1) with { Epochs = 2 });
        var history = longer.Train(data, dir, resume: true);
        Assert.Equal(2 * firstEnd, Trainer.CheckpointStep(Path.Combine(dir, Trainer.CheckpointFile)));
        Assert.Equal(2 * firstEnd, history[^1].Step);
    }

    [Fact]
    public void SamplingBatchByBatchGivesTheSameImagesAsOneCallAndReportsProgress()
    {
        var data = TinyData.Bars(32);
        using var run = ImageRun.Create(Tiny(epochs: 1));
        run.Train(data, Temp());
        var options = new ImageSampleOptions { Sampler = "ddim", Steps = 4, Labels = [0, 1, 2, 3, 0], GuidanceScale = 3, BatchSize = 2, Seed = 9 };
        using var all = run.Sample(5, options);
        var starts = new List<int>();
        var parts = new List<Tensor>();
        long lastDone = 0, lastTotal = 0;
        run.SampleBatches(5, options, (start, batch) => { starts.Add(start); parts.Add(batch.clone().DetachFromDisposeScope()); },
            onProgress: (done, total) => { Assert.Equal(lastDone + 1, done); lastDone = done; lastTotal = total; });
        Assert.Equal([0, 2, 4], starts);
        Assert.Equal(0f, (torch.cat(parts, 0) - all).abs().max().item<float>());
        Assert.Equal((3L * 4, 3L * 4), (lastDone, lastTotal)); // 3 batches × 4 steps
    }

    [Fact]
    public void NaNWeightsAreNamedAtLoadingAndANonFiniteBatchIsAnErrorNotBlackImages()
    {
        var data = TinyData.Bars(32);
        var dir = Temp();
        using (var trained = ImageRun.Create(Tiny(epochs: 1))) trained.Train(data, dir);
        using var run = ImageRun.Load(dir);
        using (torch.no_grad()) run.Network.parameters().First().fill_(float.NaN);
        var options = new ImageSampleOptions { Sampler = "ddim", Steps = 3, Labels = [0, 1], GuidanceScale = 3, Seed = 1 };
        var e = Assert.Throws<DiffusionLabException>(() => run.Sample(2, options));
        Assert.Contains("is not finite", e.Message);
        // the same weights saved and loaded again: refused at loading, naming the file and the parameter
        var bad = Temp();
        run.Export(bad);
        var load = Assert.Throws<DiffusionLabException>(() => ImageRun.Load(bad));
        Assert.Contains("holds NaN or infinite weights (parameter", load.Message);
    }

    [Fact]
    public void ResumeWithDifferentOptionsOrOverANewRunIsRefused()
    {
        var data = TinyData.Bars(32);
        var dir = Temp();
        using (var run = ImageRun.Create(Tiny(epochs: 1))) run.Train(data, dir);
        using var again = ImageRun.Create(Tiny(epochs: 1));
        Assert.Equal(["resume", "runDir"], Assert.Throws<DiffusionLabException>(() => again.Train(data, dir)).Parameters);
        using var other = ImageRun.Create(Tiny(epochs: 1) with { Hidden = 8 });
        Assert.Contains("different configuration", Assert.Throws<DiffusionLabException>(() => other.Train(data, dir, resume: true)).Message);
    }

    [Fact]
    public void MemoryStaysFlatAcrossEpochsAndSamplingSteps()
    {
        var data = TinyData.Bars(64);
        long LiveAfter(Action a)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            a();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }
        using var run1 = ImageRun.Create(Tiny(epochs: 1, gridEvery: 1));
        using var run3 = ImageRun.Create(Tiny(epochs: 4, gridEvery: 1));
        long one = LiveAfter(() => run1.Train(data, Temp()));
        long four = LiveAfter(() => run3.Train(data, Temp()));
        Assert.Equal(one, four); // a longer training leaves no more tensors behind

        var labels = Enumerable.Range(0, 8).Select(i => i % 4).ToArray();
        long few = LiveAfter(() => run3.Sample(8, new ImageSampleOptions { Sampler = "ddpm", Steps = 5, Labels = labels, GuidanceScale = 3 }).Dispose());
        long many = LiveAfter(() => run3.Sample(8, new ImageSampleOptions { Sampler = "ddpm", Steps = 20, Labels = labels, GuidanceScale = 3 }).Dispose());
        long ddim = LiveAfter(() => run3.Sample(8, new ImageSampleOptions { Sampler = "ddim", Steps = 10, Labels = labels, GuidanceScale = 3, BatchSize = 3 }).Dispose());
        Assert.Equal(0, few);
        Assert.Equal(0, many);
        Assert.Equal(0, ddim);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void AnEpochGridGuidanceScaleThatIsNotAFiniteNonNegativeNumberIsRefusedByName(double gamma)
    {
        var e = Assert.Throws<DiffusionLabException>(() => ImageRun.Create(Tiny(epochs: 1) with { GridGuidanceScale = gamma }));
        Assert.Contains("`GridGuidanceScale`", e.Template);
    }

    [Fact]
    public void ExportedWeightsReloadAndSampleTheSame()
    {
        var data = TinyData.Bars(32);
        var dir = Temp();
        using var run = ImageRun.Create(Tiny(epochs: 1));
        run.Train(data, dir);
        var exported = Temp();
        run.Export(exported);
        using var fromRun = ImageRun.Load(dir);
        using var fromExport = ImageRun.Load(exported);
        var o = new ImageSampleOptions { Sampler = "ddim", Steps = 5, Labels = [0, 1, 2, 3], GuidanceScale = 2, Seed = 9 };
        using var a = fromRun.Sample(4, o);
        using var b = fromExport.Sample(4, o);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.Equal(new long[] { 4, 1, 8, 8 }, a.shape);
        // float16 export: half the size, samples within float16 rounding
        var halfDir = Temp();
        run.Export(halfDir, half: true);
        Assert.True(new FileInfo(Path.Combine(halfDir, ImageRun.WeightsFile)).Length < 0.6 * new FileInfo(Path.Combine(exported, ImageRun.WeightsFile)).Length);
        using (var fromHalf = ImageRun.Load(halfDir))
        using (var c = fromHalf.Sample(4, o))
            Assert.True((c - a).abs().max().item<float>() < 0.05);
        // corrupt weights: a clear error
        var weights = Path.Combine(exported, ImageRun.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        Assert.Contains("corrupt", Assert.Throws<DiffusionLabException>(() => ImageRun.Load(exported)).Message);
    }

    [Fact]
    public void SamplingChecksClassesAndTrainingChecksImageSizes()
    {
        using var run = ImageRun.Create(Tiny(epochs: 1));
        Assert.Contains("out of range", Assert.Throws<DiffusionLabException>(() => run.Sample(1, new ImageSampleOptions { Labels = [4] })).Message);
        Assert.Contains("1×8×8", Assert.Throws<DiffusionLabException>(() => run.Train(TinyData.Bars(32, size: 12), Temp())).Message);
        using var uncond = ImageRun.Create(Tiny("cs180-time", 1));
        Assert.Contains("not class-conditional", Assert.Throws<DiffusionLabException>(() => uncond.Sample(1, new ImageSampleOptions { Labels = [0] })).Message);
    }

    [Fact]
    public void AFolderOfRgbImagesTrainsAndSamplesWithTheUNet()
    {
        var folder = TinyData.RgbFolder(perClass: 10, size: 20);
        var data = DiffusionLab.Data.ImageDatasets.Load("folder:" + folder, "train", 8);
        var config = ImageRunConfig.Preset("unet") with
        {
            Dataset = "folder:" + folder, ImageSize = 8, Channels = 3, ClassNames = data.ClassNames.ToArray(), BatchSize = 6, Epochs = 2,
            DiffusionSteps = 20, GridEvery = 1,
            UNet = new DiffusionLab.Models.DdpmUNetConfig { Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0.1 },
        };
        var dir = Temp();
        using var run = ImageRun.Create(config);
        var history = run.Train(data, dir);
        Assert.True(history.All(p => double.IsFinite(p.Loss)));
        Assert.True(File.Exists(Path.Combine(dir, "samples", "epoch-002.png")));
        using var samples = run.Sample(4, new ImageSampleOptions { Sampler = "ddim", Steps = 5, Labels = [0, 1, 0, 1], GuidanceScale = 2 });
        Assert.Equal(new long[] { 4, 3, 8, 8 }, samples.shape);
        Assert.False(samples.isnan().any().item<bool>());
        // the DDPM U-Net clips x̂_0 to [−1, 1] unless told otherwise (DDPM's and diffusers' samplers do); 0 turns it off
        ImageSampleOptions Ddpm(double? clip) => new() { Sampler = "ddpm", Steps = 20, Labels = [0, 1, 0, 1], GuidanceScale = 3, Seed = 2, ClipX0 = clip };
        using var byDefault = run.Sample(4, Ddpm(null));
        using var clipped = run.Sample(4, Ddpm(1));
        using var unclipped = run.Sample(4, Ddpm(0));
        Assert.Equal(0f, (byDefault - clipped).abs().max().item<float>());
        Assert.True((byDefault - unclipped).abs().max().item<float>() > 1e-3, "an untrained network's x̂_0 leaves [−1, 1], so clipping changes the samples");
        Assert.Equal(1.0, config.DefaultClipX0);
        Assert.Null(Tiny().DefaultClipX0); // the CS180 recipe samples unclipped
    }
    // 16 bars of 8 px captioned by their row, and a tiny U-Net on MiniLM features (with a prompt-category prior over
    // the 4 rows when categories > 0)
    private static (DiffusionLab.Data.ImageDataset Bars, DiffusionLab.Data.ImageDataset Data, ImageRunConfig Config) CaptionedBarsOnFrozenFeatures(Func<int, string> caption, int categories = 0)
    {
        var bars = TinyData.Bars(16, 8, 4, seed: 1);
        var captions = bars.Labels.Select(l => new[] { caption(l) }).ToArray();
        var data = new DiffusionLab.Data.ImageDataset("captioned-bars", bars.Pixels, bars.Labels, 1, 8, 8, bars.ClassNames, captions);
        var config = ImageRunConfig.Preset("unet") with
        {
            Dataset = "captioned-bars", ImageSize = 8, Channels = 1, ClassNames = bars.ClassNames.ToArray(), BatchSize = 8, Epochs = 1, DiffusionSteps = 20,
            UNet = new DiffusionLab.Models.DdpmUNetConfig
            {
                Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0,
                Text = new DiffusionLab.Models.TextEncoderConfig { Frozen = DiffusionLab.Conditioning.MiniLmPromptEncoder.Name, MaxTokens = 8, Width = 16, Layers = 1, Heads = 2, Categories = categories },
            },
        };
        return (bars, data, config);
    }

    [Fact]
    public void ATextModelOnTheFrozenEncoderTrainsReloadsAndEditsWithPrompts()
    {
        var (bars, data, config) = CaptionedBarsOnFrozenFeatures(l => $"bar at row {l}");
        Assert.True(config.IsTextConditional);
        var dir = Temp();
        using (var run = ImageRun.Create(config))
        {
            Assert.IsType<DiffusionLab.Conditioning.MiniLmPromptEncoder>(run.PromptEncoder);
            Assert.True(run.Train(data, dir).All(p => double.IsFinite(p.Loss)));
        }
        // the config names the encoder and holds no vocabulary; sampling reloads it and reports what it cannot read
        Assert.DoesNotContain("PromptTokens", File.ReadAllText(Path.Combine(dir, "config.json")));
        var (code, o, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompt", "bar at row 2", "--prompt", "a bar 😺", "--n", "2", "--steps", "3", "--seed", "4", "--out", Temp());
        Assert.True(code == 0, err);
        Assert.Contains("prompt 'a bar 😺': words the model's vocabulary lacks (never in a caption, or no word piece of its encoder), read as unknown or left out: 😺", o);
        var picture = Path.Combine(Temp(), "bar.png");
        using (var one = data.Take(1).Images) DiffusionLab.Imaging.ImageTensor.SavePng(one[0], picture);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sdedit", "--run", dir, "--image", picture, "--invert", "no", "--prompt", "bar at row 3", "--steps", "4", "--i-start", "2", "--out", Temp());
        Assert.True(code == 0, err);
        // a learned vocabulary and a frozen encoder at once is a broken config
        var both = config with { PromptTokens = [10, 11] };
        Assert.Contains("a model on a frozen text encoder is a unet without", Assert.Throws<DiffusionLabException>(() => ImageRun.Create(both)).Message);
    }

    [Fact]
    public void ATextModelWithAPromptPriorFitsItBeforeTrainingKeepsItAndNamesEachPromptsCategory()
    {
        string[] words = ["top", "upper", "lower", "bottom"];
        var (bars, data, config) = CaptionedBarsOnFrozenFeatures(l => $"a bar at the {words[l]}", categories: 4);
        var dir = Temp();
        float[] before;
        using (var run = ImageRun.Create(config))
        {
            Assert.False(run.PromptPrior!.IsFitted);
            Assert.True(run.Train(data, dir).All(p => double.IsFinite(p.Loss)));
            Assert.True(run.PromptPrior.IsFitted); // fitted before the first step: the training captions read as their bars
            using var probabilities = run.PromptCategoryProbabilities(["a bar at the bottom", "a bar at the top", ""]);
            Assert.Equal(new long[] { 3, 0 }, probabilities.narrow(0, 0, 2).argmax(1).data<long>().ToArray());
            Assert.True(probabilities[2].isnan().all().item<bool>()); // the empty prompt has no category
            before = probabilities.narrow(0, 0, 2).data<float>().ToArray();
        }
        Assert.Contains("\"Categories\": 4", File.ReadAllText(Path.Combine(dir, "config.json")));
        // reloaded: the prior came back with the weights (the frozen fit is not redone), and sample names the categories
        using (var reloaded = ImageRun.Load(dir))
        using (var probabilities = reloaded.PromptCategoryProbabilities(["a bar at the bottom", "a bar at the top"]))
            Assert.Equal(before, probabilities.data<float>().ToArray());
        var (code, o, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompt", "a bar at the bottom", "--n", "2", "--steps", "3", "--seed", "4", "--out", Temp());
        Assert.True(code == 0, err);
        Assert.Contains($"prompt 'a bar at the bottom': category {bars.ClassNames[3]} (", o);
        // a run without a prior has none to name
        using var plain = ImageRun.Create(config with { UNet = config.UNet with { Text = config.UNet.Text! with { Categories = 0 } } });
        Assert.Null(plain.PromptPrior);
        Assert.Contains("no prompt-category prior", Assert.Throws<DiffusionLabException>(() => plain.PromptCategoryProbabilities(["x"])).Message);
    }

    [Fact]
    public void ACaptionedDataSetTrainsATextModelThatSamplesFromPrompts()
    {
        var bars = TinyData.Bars(32, 8, 4, seed: 1);
        var captions = bars.Labels.Select(l => new[] { $"bar at row {l}", $"a bright bar, row {l}" }).ToArray();
        var data = new DiffusionLab.Data.ImageDataset("captioned-bars", bars.Pixels, bars.Labels, 1, 8, 8, bars.ClassNames, captions);
        var vocabulary = DiffusionLab.Conditioning.PromptVocabulary.FromCaptions(captions.SelectMany(c => c), 8);
        var config = ImageRunConfig.Preset("unet") with
        {
            Dataset = "captioned-bars", ImageSize = 8, Channels = 1, ClassNames = bars.ClassNames.ToArray(), BatchSize = 8, Epochs = 1,
            DiffusionSteps = 20, GridEvery = 1, PromptTokens = vocabulary.Gpt2Ids.ToArray(),
            UNet = new DiffusionLab.Models.DdpmUNetConfig
            {
                Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0,
                Text = new DiffusionLab.Models.TextEncoderConfig { VocabSize = vocabulary.Size, MaxTokens = 8, Width = 16, Layers = 1, Heads = 2 },
            },
        };
        Assert.Equal(0, config.NumClasses);
        var dir = Temp();
        using (var run = ImageRun.Create(config))
        {
            var history = run.Train(data, dir);
            Assert.True(history.All(p => double.IsFinite(p.Loss)));
            Assert.True(File.Exists(Path.Combine(dir, "samples", "epoch-001.png"))); // a row per grid prompt
            using var samples = run.Sample(4, new ImageSampleOptions { Sampler = "ddim", Steps = 4, Prompts = ["bar at row 1", "bar at row 1", "", null], GuidanceScale = 3 });
            Assert.Equal(new long[] { 4, 1, 8, 8 }, samples.shape);
            Assert.False(samples.isnan().any().item<bool>());
            Assert.Contains("not class-conditional", Assert.Throws<DiffusionLabException>(() => run.Sample(1, new ImageSampleOptions { Prompts = ["x"], Labels = [0] })).Message);
        }
        // reloaded from its folder, with the prompt vocabulary in its config.json, from the command line
        var outDir = Temp();
        var (code, o, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompt", "bar at row 2", "--prompt", "a zebra", "--n", "4", "--steps", "3", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("prompt 'a zebra': words the model's vocabulary lacks", o);
        Assert.True(File.Exists(Path.Combine(outDir, "grid.png")));
        // a guidance-scale × prompt grid: a row per prompt, a column per γ
        var sweepDir = Temp();
        (code, o, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompt", "bar at row 0", "--prompt", "bar at row 2", "--guidance-scales", "1,3,7.5", "--steps", "2", "--out", sweepDir);
        Assert.True(code == 0, err);
        Assert.Contains("2 rows × 3 guidance scales", o);
        using (var sweep = SkiaSharp.SKBitmap.Decode(Path.Combine(sweepDir, "guidance-grid.png")))
            Assert.True(sweep.Width > 3 * 8 && sweep.Height > 2 * 8);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompt", "bar", "--guidance-scales", "1,-2", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("--guidance-scales must list γ ≥ 0", err);
        // prompts from a split's captions need a captioned split
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--run", dir, "--prompts-from", "folder:" + TinyData.RgbFolder(perClass: 4, size: 8) + ":train", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("has no captions", err);
        // the editing verbs take prompts where they take classes
        var picture = Path.Combine(Temp(), "bar.png");
        using (var one = data.Take(1).Images) DiffusionLab.Imaging.ImageTensor.SavePng(one[0], picture);
        foreach (var args in new[]
        {
            new[] { "sdedit", "--image", picture, "--invert", "no", "--prompt", "bar at row 3", "--steps", "4", "--i-start", "1,3" },
            ["inpaint", "--image", picture, "--invert", "no", "--prompt", "bar at row 0", "--steps", "4"],
            ["anagram", "--prompt", "bar at row 0", "--view-prompt", "bar at row 3", "--n", "2", "--steps", "4"],
            ["hybrid", "--near-prompt", "bar at row 1", "--far-prompt", "bar at row 2", "--n", "2", "--steps", "4"],
        })
        {
            (code, o, err) = DiffusionLab.Tests.Cli.CliRunner.Run([.. args, "--run", dir, "--out", Temp()]);
            Assert.True(code == 0, $"{args[0]}: {err}");
            if (args[0] is "anagram" or "hybrid") Assert.Contains("(no judge: the views are prompts, which name no class for a classifier to check)", o);
        }
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("anagram", "--run", dir, "--prompt", "bar at row 0", "--view-prompt", "bar at row 3", "--steps", "4", "--judge", "models/emoji-classifier", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("--judge reads a class model's views; a text model's views are prompts", err);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("anagram", "--run", dir, "--prompt", "bar", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("give --view-class (a class model) or --view-prompt (a text model)", err);
        // a data set without captions cannot train it, and a class model takes no prompt
        using (var run = ImageRun.Create(config))
            Assert.Contains("has no captions", Assert.Throws<DiffusionLabException>(() => run.Train(bars, Temp())).Message);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("sample", "--prompt", "a seven", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("not text-conditioned", err);
        var folder = "folder:" + TinyData.RgbFolder(perClass: 4, size: 8);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "unet", "--text", "--image-size", "8", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("has no captions", err);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "unet", "--text-encoder", "all-MiniLM-L6-v2", "--image-size", "8", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("--text-encoder chooses what reads a text model's prompts: give --text too", err);
        foreach (var (flag, what) in new[] { ("--text-width", "the prompt encoder's width"), ("--max-tokens", "how many tokens a prompt is read as") })
        {
            (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "unet", flag, "16", "--image-size", "8", "--out", Temp());
            Assert.Equal(1, code);
            Assert.Contains($"{flag} sets {what}, which only a text model has: give --text too", err);
        }
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "unet", "--text", "--prompt-prior", "--image-size", "8", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("--prompt-prior reads the sentence embedding of a frozen encoder: give --text --text-encoder all-MiniLM-L6-v2", err);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "unet", "--text", "--text-encoder", "clip", "--image-size", "8", "--out", Temp());
        Assert.Equal(2, code); // a usage error: the choices are listed
        Assert.Contains("all-MiniLM-L6-v2", err);
        (code, _, err) = DiffusionLab.Tests.Cli.CliRunner.Run("train", "--dataset", folder, "--model", "cs180-class", "--text", "--out", Temp());
        Assert.Equal(1, code);
        Assert.Contains("--text needs --model unet", err);
    }
}

public class RandomFlipTests
{
    [Fact]
    public void ClassesThatMustNotBeMirroredNeverAreAndTheOthersAreAboutHalfTheTime()
    {
        using var scope = torch.NewDisposeScope();
        int n = 400;
        var x = torch.arange(4, dtype: torch.float32).reshape(1, 1, 1, 4).expand(n, 3, 2, 4).contiguous(); // 0 1 2 3 per row
        var labels = torch.tensor(Enumerable.Range(0, n).Select(i => (long)(i % 2)).ToArray());
        var flippable = torch.tensor(new[] { true, false });
        var y = DiffusionLab.Runs.ImageRun.RandomFlip(x, labels, flippable, DiffusionLab.TensorOps.SeededGenerator(3));
        var mirrored = y[.., 0, 0, 0].eq(3); // a mirrored row starts with 3
        var cls1 = labels.eq(1);
        Assert.Equal(0, mirrored.logical_and(cls1).sum().item<long>());
        long flipped0 = mirrored.logical_and(cls1.logical_not()).sum().item<long>();
        Assert.InRange(flipped0, 100 - 30, 100 + 30); // Binomial(200, ½): mean 100, sd 7.1 — ±30 is over 4 sd
        Assert.Equal(0f, (y.flip(3)[mirrored] - x[mirrored]).abs().max().item<float>());
        Assert.Equal(0f, (y[mirrored.logical_not()] - x[mirrored.logical_not()]).abs().max().item<float>());
        var all = DiffusionLab.Runs.ImageRun.RandomFlip(x, labels, null, DiffusionLab.TensorOps.SeededGenerator(3));
        Assert.True(all[.., 0, 0, 0].eq(3).logical_and(cls1).sum().item<long>() > 0);
    }

}
