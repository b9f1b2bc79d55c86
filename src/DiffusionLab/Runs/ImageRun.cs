using System.Text;
using System.Text.Json;
using DiffusionLab.Data;
using DiffusionLab.Denoisers;
using DiffusionLab.Imaging;
using DiffusionLab.Models;
using DiffusionLab.Samplers;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Training;
using SkiaSharp;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Runs;

/// <summary>Sampling settings of an image model.</summary>
public sealed record ImageSampleOptions
{
    /// <summary>ddpm (ancestral; strided when Steps &lt; T), ddim, dpm++2m, dpm++2s, dpm++2m-sde, unipc or heun-karras (see <see cref="DiscreteSamplers"/>).</summary>
    public string Sampler { get; init; } = "ddpm";
    /// <summary>Number of steps (null: all T for ddpm, 50 for the others).</summary>
    public int? Steps { get; init; }
    /// <summary>The step grid (<see cref="Schedules.StepGrid"/>: uniform, trailing, karras or list:…; null: the sampler's own).</summary>
    public string? Grid { get; init; }
    /// <summary>DDIM η.</summary>
    public double Eta { get; init; }
    /// <summary>DDPM variance: posterior (β̃_t) or beta (β_t, the CS180 update).</summary>
    public string Variance { get; init; } = "posterior";
    /// <summary>One label per sample (null: unconditional).</summary>
    public int[]? Labels { get; init; }
    /// <summary>γ of ε_u + γ(ε_c − ε_u).</summary>
    public double GuidanceScale { get; init; } = 1.0;
    /// <summary>For a text-conditioned model: one prompt per sample (null or empty: the unconditional model).</summary>
    public string?[]? Prompts { get; init; }
    /// <summary>
    /// A conditioning per batch (first index, count) in place of <see cref="Labels"/>/<see cref="GuidanceScale"/>:
    /// visual anagrams, hybrid images, classifier guidance.
    /// </summary>
    public Func<int, int, IConditioning?>? Conditioning { get; init; }
    public int BatchSize { get; init; } = 100;
    public long Seed { get; init; }
    /// <summary>Clip x̂_0 to [−c, c] at every step; images live in [−1, 1], so 1 is diffusers' clip_sample. Null: the model's
    /// default (<see cref="ImageRunConfig.DefaultClipX0"/>); 0: off.</summary>
    public double? ClipX0 { get; init; }
    /// <summary>"fp32" or "bf16" (the network under bfloat16 <see cref="Runtime.MixedPrecision"/>; the sampler's arithmetic stays float32).</summary>
    public string Precision { get; init; } = "fp32";
    /// <summary>The part of the n samples to draw (<see cref="DiffusionLab.Shard.Range"/>); the others are skipped.</summary>
    public Shard Shard { get; init; } = Shard.Whole;
}

/// <summary>
/// An image diffusion run: builds the network and the discrete model from an <see cref="ImageRunConfig"/>, trains it
/// epoch by epoch with the shared <see cref="Trainer"/> (checkpoint, loss curve and a sample grid every epoch),
/// reloads it from a run folder or from shipped weights, and samples it (DDPM, DDIM, class-conditional, guided).
/// The CLI's <c>train</c>, <c>sample</c> and <c>denoise</c> are thin shells over this class.
/// </summary>
public sealed class ImageRun : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "weights.bin";
    private const string WeightsMagic = "DIFFLAB-WEIGHTS-1";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    // Correct convolution gradients need oneDNN off (see NativeRuntime); every image run makes sure of it.
    static ImageRun() => Runtime.NativeRuntime.Configure();

    private ImageRun(ImageRunConfig config, Device device)
    {
        config.Validate();
        Config = config;
        Device = device;
        torch.manual_seed(config.Training.Seed); // the initial weights are part of what the seed fixes
        Network = BuildNetwork(config);
        Network.to(device);
        PromptEncoder = config.PromptEncoder();
        if (!config.IsSingleStep)
            Model = new DiscreteModel(Schedules.NoiseSchedules.Create(config.Schedule, config.DiffusionSteps),
                new Denoiser(Network, PredictionMath.Parse(config.Prediction)), device);
    }

    public ImageRunConfig Config { get; }
    public Device Device { get; }
    public nn.Module<Tensor, Tensor, Tensor> Network { get; }
    /// <summary>The diffusion model (null for the single-step denoiser).</summary>
    public DiscreteModel? Model { get; }
    public int NumClasses => Config.NumClasses;

    public static ImageRun Create(ImageRunConfig config, Device? device = null) => new(config, device ?? CPU);

    public static nn.Module<Tensor, Tensor, Tensor> BuildNetwork(ImageRunConfig c) => c.Model switch
    {
        "cs180-single" => new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Single, c.Channels, c.Hidden, c.ImageSize, 0)),
        "cs180-time" => new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Time, c.Channels, c.Hidden, c.ImageSize, 0)),
        "cs180-class" => new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, c.Channels, c.Hidden, c.ImageSize, c.ClassNames.Length)),
        "unet" => new DdpmUNet(c.UNet with { InChannels = c.Channels, ImageSize = c.ImageSize, NumClasses = c.NumClasses }),
        _ => throw new DiffusionLabException($"unknown model '{c.Model}'"),
    };

    /// <summary>
    /// Loads a trained model from a run folder (config.json + checkpoint.bin: EMA weights when present) or a model
    /// folder (config.json + weights.bin, as shipped in <c>models/</c>).
    /// </summary>
    public static ImageRun Load(string dir, Device? device = null)
    {
        var config = ReadConfig(dir);
        ImageRun run;
        try { run = new ImageRun(config, device ?? CPU); }
        catch (DiffusionLabException e) { throw new DiffusionLabException($"{Path.Combine(dir, ConfigFile)}: {e.Message}", e); } // a field the checks above cannot see (an unknown schedule…)
        try
        {
            var weights = Path.Combine(dir, WeightsFile);
            var checkpoint = Path.Combine(dir, Trainer.CheckpointFile);
            var foreign = StateDictFile.Formats.Select(f => Path.Combine(dir, StateDictFile.FileName(f))).FirstOrDefault(File.Exists);
            string source;
            if (File.Exists(weights)) LoadWeightsFile(source = weights, run.Network);
            else if (foreign is not null) StateDictFile.Load(run.Network, source = foreign); // a model exported for PyTorch, or a PyTorch state_dict
            else if (File.Exists(checkpoint)) Trainer.LoadWeights(source = checkpoint, run.Network);
            else throw new DiffusionLabException($"{dir} has no {Trainer.CheckpointFile}, {WeightsFile}, {string.Join(" or ", StateDictFile.Formats.Select(StateDictFile.FileName))} (is the training finished?)");
            CheckFinite(run.Network, source);
            run.Network.to(run.Device);
            run.Network.eval();
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fine-tuning's start: copies the weights of the trained model or run folder <paramref name="modelDir"/> into this
    /// run's network wherever a weight of the same name and shape exists (<see cref="WeightTransfer.CopyMatching"/>);
    /// the rest keeps its fresh initialisation. Call it before <see cref="Train"/> (whose EMA starts from these weights), not
    /// when resuming, where the checkpoint holds everything. The returned report says what was copied and what is new.
    /// </summary>
    public WeightTransfer.Report InitialiseFrom(string modelDir)
    {
        using var source = Load(modelDir, CPU);
        if (source.Config.Model != Config.Model)
            throw new DiffusionLabException($"{modelDir} is a {source.Config.Model} model; this run trains a {Config.Model}");
        // the network learned what t means on its own forward process (Ho et al. 2020, §3.2: ε_θ(x_t, t) with x_t drawn from
        // q(x_t | x_0) of that schedule); fine-tuned on another one, every time step would start at a different noise level
        var (from, to) = (Diffusion(source.Config), Diffusion(Config));
        if (from != to)
            throw new DiffusionLabException($"{modelDir} learned the {from} diffusion; this run trains the {to} one: give the source's `Schedule`, `DiffusionSteps` and `Prediction`");
        return WeightTransfer.CopyMatching(source.Network, Network, modelDir);
    }

    private static string Diffusion(ImageRunConfig c) => $"{c.Schedule} schedule, {c.DiffusionSteps} steps, {c.Prediction} prediction";

    public static ImageRunConfig ReadConfig(string dir) =>
        RunFolder.ReadConfig<ImageRunConfig>(dir, ConfigFile, Json, (config, path) => config.Validate(path));

    /// <summary>The weight formats of <see cref="Export"/>: DiffusionLab's weights.bin, and those of <see cref="StateDictFile"/>.</summary>
    public static readonly IReadOnlyList<string> WeightFormats = ["difflab", .. StateDictFile.Formats];

    /// <summary>
    /// Writes config.json and the sampling weights to <paramref name="dir"/>: a self-contained model to ship. The weights
    /// go to weights.bin (<paramref name="format"/> "difflab"), model.safetensors or model.pt (a PyTorch state_dict whose
    /// names are the network's parameter names); every one of them loads back here. With <paramref name="half"/> they are
    /// stored as float16 (half the size; loaded back as float32).
    /// </summary>
    public void Export(string dir, bool half = false, string format = "difflab")
    {
        if (!WeightFormats.Contains(format)) throw new DiffusionLabException($"unknown weights `format` '{format}' (choose from {string.Join(", ", WeightFormats)})");
        Directory.CreateDirectory(dir);
        // one weights file per folder: another format's file left there would be loaded first (or instead)
        foreach (var other in WeightFormats.Where(f => f != format).Select(f => Path.Combine(dir, f == "difflab" ? WeightsFile : StateDictFile.FileName(f))))
            if (File.Exists(other)) File.Delete(other);
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), JsonSerializer.Serialize(Config, Json));
        if (format != "difflab")
        {
            StateDictFile.Save(Network, Path.Combine(dir, StateDictFile.FileName(format)), half);
            return;
        }
        using var copy = BuildNetwork(Config);
        copy.load_state_dict(Network.state_dict());
        if (half) copy.to(ScalarType.Float16);
        AtomicFile.Write(Path.Combine(dir, WeightsFile), stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(WeightsMagic);
            w.Write(half);
            copy.save(w);
        });
    }

    /// <summary>
    /// A model folder from weights trained elsewhere: the network <paramref name="configSource"/> describes (a model or run
    /// folder, or its config.json) with the weights of <paramref name="weightsPath"/> (.safetensors, or a PyTorch
    /// .pt/.pth state_dict with this network's parameter names), checked name by name, written to <paramref name="dir"/>
    /// in <paramref name="format"/>.
    /// </summary>
    public static void Import(string configSource, string weightsPath, string dir, string format = "difflab", bool half = false)
    {
        var configDir = File.Exists(configSource) ? Path.GetDirectoryName(Path.GetFullPath(configSource))! : configSource;
        if (File.Exists(configSource) && Path.GetFileName(configSource) != ConfigFile)
            throw new DiffusionLabException($"`config` must be a model folder or its {ConfigFile}, got {configSource}");
        using var run = new ImageRun(ReadConfig(configDir), CPU);
        StateDictFile.Load(run.Network, weightsPath);
        CheckFinite(run.Network, weightsPath);
        run.Export(dir, half, format);
    }

    /// <summary>NaN or infinite weights would sample black images with exit code 0: a one-line error naming the file and the parameter.</summary>
    private static void CheckFinite(nn.Module network, string source)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in network.named_parameters())
            if (!p.isfinite().all().item<bool>())
                throw new DiffusionLabException($"{source} holds NaN or infinite weights (parameter {name}); it cannot sample — retrain, or use an earlier checkpoint");
    }

    private static void LoadWeightsFile(string path, nn.Module network)
    {
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadString() != WeightsMagic) throw new DiffusionLabException($"{path} is not a DiffusionLab weights file");
            bool half = r.ReadBoolean();
            if (half) network.to(ScalarType.Float16);
            network.load(r);
            if (half) network.to(ScalarType.Float32);
        }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            throw new DiffusionLabException($"weights file {path} is corrupt or does not match its config.json ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>Checks that a dataset fits this run's images and classes.</summary>
    public void CheckDataset(ImageDataset data)
    {
        if (data.Channels != Config.Channels || data.Height != Config.ImageSize || data.Width != Config.ImageSize)
            throw new DiffusionLabException($"dataset {data.Name} has {data.Channels}×{data.Height}×{data.Width} images but the model expects {Config.Channels}×{Config.ImageSize}×{Config.ImageSize}");
        if (NumClasses > 0 && data.NumClasses != NumClasses)
            throw new DiffusionLabException($"dataset {data.Name} has {data.NumClasses} classes but the model has {NumClasses}");
    }

    /// <summary>
    /// The convolution layout for this network (<see cref="Runtime.ConvolutionLayout.ForNetwork"/>) in training on batches
    /// of <paramref name="batch"/> images, or in sampling with <paramref name="batch"/> images per network call (the
    /// conditional and unconditional halves of a guided batch together), in <paramref name="precision"/>.
    /// </summary>
    public Runtime.ConvolutionLayout.Choice ChooseLayout(bool training, int batch, string precision) =>
        LastLayout = Runtime.ConvolutionLayout.ForNetwork(Network, [batch, Config.Channels, Config.ImageSize, Config.ImageSize], training, precision, Device);

    /// <summary>The layout the last training, sampling or editing call took (null before any).</summary>
    public Runtime.ConvolutionLayout.Choice? LastLayout { get; private set; }

    /// <summary>Trains (or resumes) on <paramref name="data"/> into <paramref name="runDir"/>.</summary>
    public IReadOnlyList<LossPoint> Train(ImageDataset data, string runDir, bool resume = false, Action<TrainingLogEntry>? onLog = null,
        Func<bool>? shouldStop = null, Action<int>? onEpoch = null, Action<long>? onStep = null, bool tensorBoard = false,
        Runtime.ICommunicator? ranks = null)
    {
        CheckDataset(data);
        if (PromptEncoder is not null && data.Captions is null)
            throw new DiffusionLabException($"dataset {data.Name} has no captions, and a text-conditioned model trains on captioned images (emoji has them since 2026-12-04: refetch with 'difflab data fetch emoji')");
        int b = Config.BatchSize;
        // data parallel: this rank's slice of every global batch (rank 0 alone writes the run folder)
        bool parallel = ranks is { Size: > 1 };
        var (sliceStart, sliceCount) = parallel ? DataParallel.Slice(b, ranks!.Rank, ranks.Size) : (0, b);
        bool writes = !parallel || ranks!.Rank == 0;
        if (data.Count < b) throw new DiffusionLabException($"dataset {data.Name} has {data.Count} images, fewer than one batch of {b}");
        int perEpoch = data.Count / b; // whole batches only (drop_last), so every step sees the same batch size
        var options = Config.Training with
        {
            Steps = perEpoch * Config.Epochs, StepsPerEpoch = perEpoch, CheckpointEvery = perEpoch, LogEvery = Math.Min(10, perEpoch),
        };
        if (writes) RunFolder.Prepare(runDir, ConfigFile, Config, Json, resume, "Epochs"); // resuming with more epochs extends a finished run
        if (!resume && PromptPrior is { IsFitted: false }) FitPromptPrior(data); // frozen while the U-Net trains, so fitted first

        int[]? permutation = null;
        int permutationEpoch = -1;
        // which classes may be mirrored (Config.NoFlipClasses are not), looked up by label
        using var flippable = Config.NoFlipClasses is { Length: > 0 } keep
            ? torch.tensor(Config.ClassNames.Select(n => !keep.Contains(n)).ToArray(), device: Device) : null;
        Tensor Loss(Generator g, long step)
        {
            int epoch = (int)(step / perEpoch), k = (int)(step % perEpoch);
            if (epoch != permutationEpoch)
            {
                permutation = Enumerable.Range(0, data.Count).ToArray();
                TensorOps.EpochRandom(Config.Training.Seed, epoch).Shuffle(permutation); // a fixed shuffle per (seed, epoch)
                permutationEpoch = epoch;
            }
            var indices = new ArraySegment<int>(permutation!, k * b + sliceStart, sliceCount);
            var (x, labels) = data.Batch(indices, Device);
            if (Config.Flip) x = RandomFlip(x, labels, flippable, g, (sliceStart, b));
            if (Config.IsSingleStep)
            {
                // CS180 project 5 part B §1.2: z = x + σε, L = ‖D_θ(z) − x‖²
                var noise = torch.randn([b, .. x.shape[1..]], generator: g).narrow(0, sliceStart, sliceCount);
                var z = x + Config.Sigma * noise.to(Device);
                return nn.functional.mse_loss(Network.call(z, torch.zeros(sliceCount, device: Device)), x);
            }
            Tensor? condition = NumClasses > 0 ? labels : null;
            if (PromptEncoder is not null)
            {
                // one of each image's captions, at random (drawn for the whole batch, as the noise is)
                var pick = torch.rand([b], ScalarType.Float64, generator: g).narrow(0, sliceStart, sliceCount).data<double>().ToArray();
                var captions = indices.Select((image, i) => data.Captions![image][(int)(pick[i] * data.Captions[image].Length)]).ToArray();
                condition = PromptEncoder.EncodeBatch(captions).to(Device);
            }
            return Model!.Loss(x, g, condition, condition is null ? 0 : Config.PUncond, (sliceStart, b));
        }

        using var shadow = options.EmaDecay > 0 ? BuildNetwork(Config) : null;
        shadow?.to(Device);
        // the single-step denoiser's epoch grids: eight images spread over the data set (its first eight are one class
        // where the split is sorted by class, as MNIST's is)
        var preview = data.Batch(Enumerable.Range(0, Math.Min(8, data.Count)).Select(i => (int)((long)i * data.Count / Math.Min(8, data.Count))).ToArray(), Device);
        using var layout = Runtime.ConvolutionLayout.Use(ChooseLayout(training: true, b, options.Precision).ChannelsLast);
        var board = tensorBoard && writes ? new TensorBoardLog(runDir, b) : null;
        var history = Trainer.Train(Network, shadow, Loss, options, runDir, resume, e => { board?.Log(e); onLog?.Invoke(e); }, shouldStop,
            (step, samplingNet) =>
            {
                int epoch = (int)(step / perEpoch);
                string? grid = null;
                if (Config.GridEvery > 0 && (epoch % Config.GridEvery == 0 || epoch == Config.Epochs))
                    WriteEpochGrid((nn.Module<Tensor, Tensor, Tensor>)samplingNet, preview.Images, grid = Path.Combine(runDir, "samples", $"epoch-{epoch:D3}.png"));
                board?.Epoch(step, grid);
                onEpoch?.Invoke(epoch);
            }, onStep, ranks);
        preview.Images.Dispose();
        preview.Labels.Dispose();
        var ckpt = Path.Combine(runDir, Trainer.CheckpointFile);
        if (writes) Trainer.LoadWeights(ckpt, Network); // from now on, sample with the EMA weights (the other ranks' models are not used)
        Network.eval();
        return history;
    }

    /// <summary>The prompts of a text model's epoch grids: everyday emoji across the categories, and one composition no
    /// caption has (a blue cat face), to see what the model makes of a new combination.</summary>
    public static readonly string[] GridPrompts =
        ["grinning face", "thumbs up sign", "cat face", "red apple", "rocket", "soccer ball", "light bulb", "red heart", "flag of japan", "blue cat face"];

    private void WriteEpochGrid(nn.Module<Tensor, Tensor, Tensor> net, Tensor preview, string path)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (Config.IsSingleStep)
        {
            var noisy = preview + Config.Sigma * torch.randn(preview.shape, generator: TensorOps.SeededGenerator(0)).to(Device);
            var denoised = net.call(noisy, torch.zeros(preview.shape[0], device: Device));
            ImageGrid.SaveRows(path, [preview, noisy, denoised], ["clean", $"σ = {Config.Sigma}", "denoised"]);
            return;
        }
        using var model = new DiscreteModel(Model!.Schedule, new Denoiser(net, Model.Denoiser.Parameterisation), Device);
        int k = NumClasses;
        int n = k > 0 ? 2 * Math.Min(k, 10) : 16;
        var labels = k > 0 ? Enumerable.Range(0, n).Select(i => i % Math.Min(k, 10)).ToArray() : null;
        // DPM-Solver++(2M) in 20 steps, the sample verb's default: a grid costs 40 % of DDIM 50's network calls for the
        // same picture (docs/RESULTS.md), which on the emoji U-Net is a tenth of an epoch saved at every epoch
        if (PromptEncoder is not null)
        {
            // a text model's grid: two samples of each of the fixed prompts, a row per prompt
            var prompts = GridPrompts.SelectMany(p => new[] { p, p }).ToArray();
            var drawn = Collect(model, prompts.Length, new ImageSampleOptions { Sampler = "dpm++2m", Steps = Math.Min(20, Config.DiffusionSteps), Prompts = prompts, GuidanceScale = Config.GridGuidanceScale, Seed = 0 });
            ImageGrid.SaveRows(path, GridPrompts.Select((_, r) => drawn[(2 * r)..(2 * r + 2)]).ToList(), GridPrompts);
            return;
        }
        var samples = Collect(model, n, new ImageSampleOptions { Sampler = "dpm++2m", Steps = Math.Min(20, Config.DiffusionSteps), Labels = labels, GuidanceScale = k > 0 ? Config.GridGuidanceScale : 1, Seed = 0 });
        if (labels is null) ImageGrid.SaveRows(path, [samples[..(n / 2)], samples[(n / 2)..]]);
        else SampleSheets.WriteGrid(path, samples, labels, Config.ClassNames); // a row per class, labelled with its name
    }

    /// <summary>
    /// A rough upper estimate of the memory a batch of <paramref name="networkImages"/> images through the network takes:
    /// per image, a multiple of one full-resolution feature map (first-level channels × H × W floats) — 20 for sampling
    /// and 60 for a training step, calibrated on the CS180 U-Net (measured peaks of 16× and 46× on MNIST, 2026-12-03) —
    /// plus the weights (four copies when training: weights, gradients, Adam's two moments). Used to refuse batches that
    /// cannot fit before any work, not to predict memory closely.
    /// </summary>
    public double EstimatedBatchBytes(long networkImages, bool training)
    {
        double featureMap = (Config.Model.StartsWith("cs180", StringComparison.Ordinal) ? Config.Hidden : Config.UNet.Ch * Config.UNet.ChMult[0])
            * (double)Config.ImageSize * Config.ImageSize * sizeof(float);
        double weights = Network.parameters().Sum(p => p.numel()) * (double)sizeof(float) * (training ? 4 : 1);
        return networkImages * featureMap * (training ? 60 : 20) + weights;
    }

    /// <summary>An upper estimate of one image's PNG: its raw bytes (PNG's worst case, incompressible noise) plus headers.</summary>
    public long EstimatedPngBytes => (long)Config.Channels * Config.ImageSize * Config.ImageSize + 200;

    /// <summary>Checks class labels against the model: a class-conditional model and indices in 0..K−1.</summary>
    public void CheckLabels(IEnumerable<int> labels)
    {
        foreach (var l in labels)
        {
            if (NumClasses == 0) throw new DiffusionLabException($"this model ({Config.Model}) is not class-conditional; leave out `labels`");
            if (l < 0 || l >= NumClasses)
                throw new DiffusionLabException($"class {l} is out of range: the model has {NumClasses} classes (0..{NumClasses - 1})");
        }
    }

    /// <summary>Draws <paramref name="n"/> images [N, C, H, W] in [−1, 1]. <paramref name="onStep"/> sees the first batch after each step.</summary>
    public Tensor Sample(int n, ImageSampleOptions options, Action<int, Tensor>? onStep = null)
    {
        if (Model is null) throw new DiffusionLabException("a single-step denoiser cannot sample from noise; use 'difflab denoise'");
        return Collect(Model, n, options, onStep);
    }

    private Tensor Collect(DiscreteModel model, int n, ImageSampleOptions options, Action<int, Tensor>? onStep = null)
    {
        var parts = new List<Tensor>();
        SampleWith(model, n, options, (_, batch) => parts.Add(batch.DetachFromDisposeScope()), onStep, null); // kept, not copied
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>
    /// Draws <paramref name="n"/> images batch by batch and hands each batch [k, C, H, W] in [−1, 1] with the index of its
    /// first image to <paramref name="onBatch"/>, which must copy what it keeps: the batch is freed afterwards, so memory
    /// stays flat in <paramref name="n"/> and an interrupted run keeps what was handed out. <paramref name="onStep"/> sees
    /// the first batch after each step; <paramref name="onProgress"/> gets (sampler steps done, of all batches' steps).
    /// </summary>
    public void SampleBatches(int n, ImageSampleOptions options, Action<int, Tensor> onBatch, Action<int, Tensor>? onStep = null, Action<long, long>? onProgress = null)
    {
        if (Model is null) throw new DiffusionLabException("a single-step denoiser cannot sample from noise; use 'difflab denoise'");
        SampleWith(Model, n, options, onBatch, onStep, onProgress);
    }

    /// <summary>Network evaluations per image of one sampling run without guidance (Heun and 2S: 2 per step but the last); times <see cref="Conditioning.ClassifierFreeGuidance.Passes"/> with it.</summary>
    public int FunctionEvaluations(ImageSampleOptions options) => DiscreteSamplers.FunctionEvaluations(options.Sampler, Model!.Schedule, StepsOf(options), options.Grid);

    /// <summary>The steps the sampler of <paramref name="options"/> visits: its grid, or its default grid.</summary>
    public int[] GridOf(ImageSampleOptions options)
    {
        if (Model is null) throw new DiffusionLabException("a single-step denoiser cannot sample from noise; use 'difflab denoise'");
        var sampler = DiscreteSamplers.Create(options.Sampler);
        return options.Grid is null ? sampler.DefaultGrid(Model!.Schedule, StepsOf(options)) : Schedules.StepGrid.Create(options.Grid, Model!.Schedule, StepsOf(options));
    }

    /// <summary>The sampler steps of <paramref name="options"/> (default: all T for ddpm, at most 50 otherwise).</summary>
    public int StepsOf(ImageSampleOptions options) => options.Steps ?? (options.Sampler == "ddpm" ? Config.DiffusionSteps : Math.Min(50, Config.DiffusionSteps));

    private void SampleWith(DiscreteModel model, int n, ImageSampleOptions o, Action<int, Tensor> onBatch, Action<int, Tensor>? onStep, Action<long, long>? onProgress)
    {
        if (n < 1) throw new DiffusionLabException($"`n` must be positive, got {n}");
        if (o.BatchSize < 1) throw new DiffusionLabException($"`BatchSize` must be positive, got {o.BatchSize}");
        if (o.ClipX0 is < 0 || o.ClipX0 is double c && !double.IsFinite(c)) throw new DiffusionLabException($"`ClipX0` must be positive (or 0: off), got {o.ClipX0}");
        double? clip = (o.ClipX0 ?? Config.DefaultClipX0) is double cl && cl > 0 ? cl : null;
        if (o.Labels is not null)
        {
            if (o.Labels.Length != n) throw new ArgumentException("one label per sample");
            CheckLabels(o.Labels);
        }
        if (o.Prompts is not null)
        {
            if (PromptEncoder is null) throw new DiffusionLabException($"this model ({Config.Model}) is not text-conditioned; leave out `prompts`");
            if (o.Prompts.Length != n) throw new ArgumentException("one prompt per sample");
            if (o.Labels is not null) throw new DiffusionLabException("give `labels` or `prompts`, not both");
        }
        if (o.GuidanceScale != 1 && o.Labels is null && o.Prompts is null) throw new DiffusionLabException("guidance needs a class (`labels`)");
        if (o.Variance is not ("posterior" or "beta")) throw new DiffusionLabException($"unknown `Variance` '{o.Variance}' (posterior or beta)");
        var sampler = DiscreteSamplers.Create(o.Sampler, o.Eta, o.Variance == "beta", clip);
        var grid = GridOf(o); // checked before any work
        int perCall = Math.Min(o.BatchSize, n) * (o.Conditioning is null ? Conditioning.ClassifierFreeGuidance.Passes(o.Labels is not null || o.Prompts is not null, o.GuidanceScale) : 1);
        using var layout = Runtime.ConvolutionLayout.Use(ChooseLayout(training: false, perCall, o.Precision).ChannelsLast);
        using var precision = Runtime.MixedPrecision.Enter(o.Precision, Network);
        int steps = grid.Length;
        var (from, to) = o.Shard.Range(n, o.BatchSize);
        long batches = (to - from + o.BatchSize - 1) / o.BatchSize, done = 0;
        InBatches(model, from, to, o.BatchSize, (start, count) => o.Conditioning is not null ? o.Conditioning(start, count)
                : GuidedCondition(o.Labels, o.Prompts, o.GuidanceScale, start, count),
            (conditioned, start, count) =>
        {
            // each sample's noise, first and at every stochastic step, from its own generator: sample i depends on
            // (seed, i) only, so shards and batch sizes do not change which image it is
            using var generator = NoiseGenerator.PerSample(o.Seed, start, count);
            var noise = generator.Randn([count, Config.Channels, Config.ImageSize, Config.ImageSize], ScalarType.Float32, Device);
            bool first = start == from;
            Action<int, Tensor>? step = onStep is null && onProgress is null ? null : (i, x) =>
            {
                if (first) onStep?.Invoke(i, x);
                onProgress?.Invoke(++done, batches * steps);
            };
            var result = sampler.Sample(conditioned, noise, grid, generator, step);
            if (!result.Samples.isfinite().all().item<bool>()) // a NaN batch would be written as black images
                throw new DiffusionLabException($"the sampled batch of images {start}–{start + count - 1} is not finite (NaN or Inf): check the model's weights and the guidance scale");
            onBatch(start, result.Samples);
        });
    }

    /// <summary>
    /// The batching that sampling and editing share: items <paramref name="from"/> … <paramref name="to"/> − 1 in batches
    /// of <paramref name="batchSize"/>, each run by <paramref name="body"/> (model under that batch's conditioning, first
    /// index, count) in its own dispose scope, so memory is one batch's whatever n is.
    /// </summary>
    private static void InBatches(DiscreteModel model, int from, int to, int batchSize, Func<int, int, IConditioning?> conditioning, Action<DiscreteModel, int, int> body)
    {
        for (int start = from; start < to; start += batchSize)
        {
            int count = Math.Min(batchSize, to - start);
            using var scope = torch.NewDisposeScope();
            using var conditioned = model.With(conditioning(start, count));
            body(conditioned, start, count);
        }
    }

    /// <summary>What reads a text-conditioned model's prompts (null otherwise).</summary>
    public Conditioning.IPromptEncoder? PromptEncoder { get; }

    /// <summary>The prompt-category prior of a text model trained with one (train --prompt-prior), else null.</summary>
    public PromptCategoryPrior? PromptPrior => (Network as DdpmUNet)?.PromptPrior;

    private PromptCategoryPrior RequirePromptPrior() => PromptPrior
        ?? throw new DiffusionLabException("this model has no prompt-category prior (its text encoder's `Categories` is 0)");

    /// <summary>
    /// Fits the prompt-category prior (<see cref="PromptCategoryPrior.Fit"/>) to every caption of <paramref name="data"/>
    /// and its image's category — before training, as the prior is frozen while the U-Net learns. Returns how many
    /// captions it read and the share it puts in their category first.
    /// </summary>
    public (int Captions, double Accuracy) FitPromptPrior(ImageDataset data)
    {
        var prior = RequirePromptPrior();
        if (data.Captions is null) throw new DiffusionLabException($"dataset {data.Name} has no captions to fit the prompt-category prior to");
        if (data.NumClasses != prior.Categories)
            throw new DiffusionLabException($"the prompt-category prior reads {prior.Categories} categories; dataset {data.Name} has {data.NumClasses}");
        var pairs = data.Captions.SelectMany((variants, image) => variants.Select(caption => (caption, data.Labels[image]))).ToArray();
        using var scope = torch.NewDisposeScope();
        var embeddings = SentenceEmbeddings(pairs.Select(p => (string?)p.caption).ToArray());
        double accuracy = prior.Fit(embeddings, torch.tensor(pairs.Select(p => (long)p.Item2).ToArray()));
        return (pairs.Length, accuracy);
    }

    /// <summary>
    /// The category probabilities [N, K] the prompt-category prior gives <paramref name="prompts"/> (a row of NaN for an
    /// empty prompt, which has no category: the model is then unconditional).
    /// </summary>
    public Tensor PromptCategoryProbabilities(IReadOnlyList<string?> prompts)
    {
        var prior = RequirePromptPrior();
        using var scope = torch.NewDisposeScope();
        var embeddings = SentenceEmbeddings(prompts);
        var probabilities = prior.Logits(embeddings).softmax(1);
        var empty = embeddings.abs().sum(1).eq(0).unsqueeze(1);
        return torch.where(empty, torch.full_like(probabilities, double.NaN), probabilities).MoveToOuterDisposeScope();
    }

    // the sentence embeddings [N, F] of prompts, encoded in chunks (all the captions at once would be gigabytes of features)
    private Tensor SentenceEmbeddings(IReadOnlyList<string?> prompts)
    {
        var encoder = PromptEncoder!;
        var parts = new List<Tensor>();
        using var scope = torch.NewDisposeScope();
        for (int start = 0; start < prompts.Count; start += 256)
        {
            var chunk = prompts.Skip(start).Take(256).ToArray();
            parts.Add(PromptCategoryPrior.SentenceEmbedding(encoder.EncodeBatch(chunk)));
        }
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The prompt-guided conditioning of <paramref name="prompts"/> at scale γ (classifier-free guidance on text).</summary>
    public ClassifierFreeGuidance PromptCondition(IReadOnlyList<string?> prompts, double guidanceScale) =>
        new((PromptEncoder ?? throw new DiffusionLabException($"this model ({Config.Model}) is not text-conditioned; leave out `prompts`")).EncodeBatch(prompts).to(Device), guidanceScale);

    /// <summary>Items start … start + count − 1 guided by their prompts (a text model) or their labels (null: unconditional).</summary>
    private ClassifierFreeGuidance? GuidedCondition(int[]? labels, string?[]? prompts, double guidanceScale, int start, int count) =>
        prompts is not null ? PromptCondition(prompts[start..(start + count)], guidanceScale) : ClassCondition(labels?[start..(start + count)], guidanceScale);

    /// <summary>The class-guided conditioning of <paramref name="labels"/> at scale γ (null labels: the unconditional model).</summary>
    public ClassifierFreeGuidance? ClassCondition(int[]? labels, double guidanceScale) =>
        labels is null ? null : new ClassifierFreeGuidance(LabelTensor(labels), guidanceScale);

    /// <summary>Checked class labels as an int64 tensor on the model's device.</summary>
    public Tensor LabelTensor(IReadOnlyList<int> labels)
    {
        CheckLabels(labels);
        return torch.tensor(labels.Select(l => (long)l).ToArray(), device: Device);
    }

    /// <summary>
    /// Runs an editing routine (inpainting, SDEdit…) over <paramref name="images"/> [N, C, H, W] in batches, with the
    /// class condition of <paramref name="labels"/> (one per image, or null) at scale γ set on the model, with the network
    /// in <paramref name="precision"/> ("fp32" or "bf16", <see cref="Runtime.MixedPrecision"/>). The routine gets each
    /// batch with its noise — one generator per image, from (<paramref name="seed"/>, the image's index) — and only the
    /// images of <paramref name="shard"/> are edited: the result holds images First … First + count − 1.
    /// </summary>
    public (Tensor Images, int First) Edit(Tensor images, int[]? labels, double guidanceScale, int batchSize, long seed,
        Func<DiscreteModel, Tensor, NoiseGenerator, Tensor> edit, string precision = "fp32", Shard? shard = null, string?[]? prompts = null)
    {
        if (prompts is not null && (labels is not null || prompts.Length != images.shape[0]))
            throw new ArgumentException("one prompt per image, and no labels with prompts");
        if (Model is null) throw new DiffusionLabException("a single-step denoiser cannot edit images; use a diffusion model");
        if (images.dim() != 4 || images.shape[1] != Config.Channels || images.shape[2] != Config.ImageSize || images.shape[3] != Config.ImageSize)
            throw new DiffusionLabException($"the model works on {Config.Channels}×{Config.ImageSize}×{Config.ImageSize} images, got [{string.Join(", ", images.shape.Skip(1))}]");
        if (labels is not null && labels.Length != images.shape[0]) throw new ArgumentException("one label per image");
        if (guidanceScale != 1 && labels is null && prompts is null) throw new DiffusionLabException("guidance needs a class (`labels`)");
        if (batchSize < 1) throw new DiffusionLabException($"`batchSize` must be positive, got {batchSize}");
        int n = (int)images.shape[0];
        var (from, to) = (shard ?? Shard.Whole).Range(n, batchSize);
        if (from == to) return (images[..0].clone(), from);
        int perCall = Math.Min(batchSize, n) * Conditioning.ClassifierFreeGuidance.Passes(labels is not null || prompts is not null, guidanceScale);
        using var layout = Runtime.ConvolutionLayout.Use(ChooseLayout(training: false, perCall, precision).ChannelsLast);
        using var lowered = Runtime.MixedPrecision.Enter(precision, Network);
        var parts = new List<Tensor>();
        InBatches(Model, from, to, batchSize, (start, count) => GuidedCondition(labels, prompts, guidanceScale, start, count),
            (conditioned, start, count) =>
            {
                using var noise = NoiseGenerator.PerSample(seed, start, count);
                parts.Add(edit(conditioned, images[start..(start + count)].to(Device), noise).cpu().MoveToOuterDisposeScope());
            });
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return (all, from);
    }

    public void Dispose()
    {
        Model?.Dispose();
        Network.Dispose();
    }

    /// <summary>
    /// Mirrors each image left–right with probability ½ — except those whose class is false in
    /// <paramref name="flippable"/> (indexed by label; null: every class may be mirrored).
    /// </summary>
    internal static Tensor RandomFlip(Tensor x, Tensor labels, Tensor? flippable, Generator g, (int Start, int Total)? slice = null)
    {
        var (start, total) = slice ?? (0, (int)x.shape[0]);
        var flip = torch.rand([total], generator: g).narrow(0, start, x.shape[0]).lt(0.5).to(x.device); // drawn for the whole batch (data parallel)
        if (flippable is not null) flip = flip.logical_and(flippable.index_select(0, labels));
        return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(3), x);
    }
}
