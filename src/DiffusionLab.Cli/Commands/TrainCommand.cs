using DiffusionLab.Data;
using DiffusionLab.Models;
using DiffusionLab.Training;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab train</c>.</summary>
public static class TrainCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("runs/mnist");
        var dataset = new Option<string>("--dataset", "-d") { Description = "mnist, fashion-mnist, emoji, emoji64, idx:DIR or folder:PATH.", DefaultValueFactory = _ => "mnist" };
        var model = new Option<string>("--model") { Description = $"{string.Join(", ", ImageRunConfig.Models)} (each brings its recipe as defaults).", DefaultValueFactory = _ => "cs180-class" };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (preset: 5 single, 20 otherwise)." };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (preset: 256 single, 128 cs180, 64 unet)." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate (preset: 1e-4 single, 1e-3 cs180, 2e-4 unet)." };
        var lrSchedule = new Option<string?>("--lr-schedule") { Description = "constant, cosine or exponential (γ = 0.1^(1/epochs) per epoch)." };
        var hidden = new Option<int?>("--hidden") { Description = "CS180 U-Net channels D (preset 128 single, 64 otherwise)." };
        var schedule = new Option<string?>("--schedule") { Description = "Noise schedule (see 'difflab schedule --help'); preset linear." };
        var diffusionSteps = new Option<int?>("--diffusion-steps") { Description = "T (preset 300 cs180, 1000 unet)." };
        var prediction = new Option<string?>("--prediction") { Description = "eps, x0 or v (preset eps)." };
        var pUncond = new Option<double?>("--p-uncond") { Description = "Probability of dropping the class in training (preset 0.1)." };
        var sigma = new Option<double?>("--sigma") { Description = "cs180-single: training noise σ (preset 0.5)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Folders: square image size (preset 32)." };
        var ch = new Option<int?>("--ch") { Description = "unet: base channels (preset 64)." };
        var chMult = new Option<string?>("--ch-mult") { Description = "unet: channel multipliers, e.g. 1,2,2." };
        var resBlocks = new Option<int?>("--num-res-blocks") { Description = "unet: residual blocks per level (preset 2)." };
        var attn = new Option<string?>("--attn") { Description = "unet: resolutions with self-attention, e.g. 8 or 16,8 (empty: none)." };
        var dropout = new Option<double?>("--dropout") { Description = "unet: dropout (preset 0.1)." };
        var uncond = new Option<bool>("--unconditional") { Description = "unet: no class conditioning." };
        var text = new Option<bool>("--text") { Description = "unet: condition on the images' captions (emoji) instead of their class — a prompt encoder (--text-encoder), cross-attention at the attention resolutions, the empty prompt dropped in with --p-uncond; sample with --prompt." };
        var textWidth = new Option<int>("--text-width") { Description = "With --text: the prompt encoder's width (2 layers, 4 heads).", DefaultValueFactory = _ => 128 };
        var textEncoder = new Option<string>("--text-encoder") { Description = $"With --text: what reads the prompts — 'learned' (GPT-2 byte-pair tokens of the captions, embedded and encoded by layers trained with the U-Net) or '{Conditioning.MiniLmPromptEncoder.Name}' (frozen pretrained sentence-encoder features, shipped with the build, with trained layers on top: words no caption has still mean something).", DefaultValueFactory = _ => "learned" };
        textEncoder.AcceptOnlyFromAmong("learned", Conditioning.MiniLmPromptEncoder.Name);
        var promptPrior = new Option<bool>("--prompt-prior") { Description = $"With --text-encoder {Conditioning.MiniLmPromptEncoder.Name}: a prompt-category prior — logistic regression from the prompt's sentence embedding to the image categories, fitted to the captions before training and frozen — picks the class embedding that joins the time embedding (fine-tuned from a class model, its trained rows), so a prompt also says its category the way the class model was taught it." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "With --text: tokens a prompt is read as (longer ones are cut).", DefaultValueFactory = _ => 24 };
        var flip = new Option<bool?>("--flip") { Description = "Random horizontal flips (preset: on for unet)." };
        var noFlip = new Option<string?>("--no-flip-classes") { Description = "With --flip: classes never mirrored, by name or prefix (default: symbols,flags for emoji; 'none' flips every class)." };
        var ema = new Option<double?>("--ema") { Description = "EMA decay of the sampling weights (0 = off; preset 0.999 cs180, 0.9999 unet)." };
        var clip = new Option<double?>("--grad-clip") { Description = "Gradient-norm clip (0 = off)." };
        var gridEvery = new Option<int>("--grid-every") { Description = "Write samples/epoch-N.png every N epochs (0 = never).", DefaultValueFactory = _ => 1 };
        var gridGuidance = new Option<double?>("--grid-guidance-scale") { Description = "γ of a class-conditional model's epoch grids (default 5, CS180's; the KAIST CFG assignment's w = 7.5 is γ = 8.5)." };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N images only (quick trials)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint (same options)." };
        var initFrom = new Option<string?>("--init-from") { Description = "Fine-tune: start from the weights of a trained model or run folder (e.g. models/emoji32-class), wherever this network has a weight of the same name and shape; new modules (--text's prompt encoder and cross-attention) start fresh. Recorded in config.json; --resume continues from the checkpoint instead." };
        var distributed = new Option<string>("--distributed") { Description = "Data-parallel training over MPI: auto (the default: mpi when started by mpirun as several ranks), mpi, or none. Each rank takes its slice of every batch (--batch-size must divide by the ranks), the gradients are averaged every step, rank 0 writes; resume works with any number of ranks.", DefaultValueFactory = _ => "auto" };
        var tensorBoard = new Option<bool>("--tensorboard") { Description = "Also log to OUT/tensorboard/ (tensorboard --logdir OUT/tensorboard): loss, learning rate, gradient norm and images/s at every log point, the sample grid and a loss histogram every epoch." };
        var precision = CommonOptions.Precision("the forward pass (weights, gradients and Adam stay fp32)");
        var cmd = new Command("train", "Train an image diffusion model (or the single-step denoiser) into a run folder: config.json, checkpoint.bin, loss.csv/png, samples/epoch-N.png.");
        foreach (var o in new Option[] { dataset, model, epochs, batch, lr, lrSchedule, hidden, schedule, diffusionSteps, prediction, pUncond, sigma, imageSize, ch, chMult, resBlocks, attn, dropout, uncond, text, textEncoder, promptPrior, textWidth, maxTokens, flip, noFlip, ema, clip, gridEvery, gridGuidance, limit, resume, initFrom, tensorBoard, distributed, precision })
            cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var ranks = parse.GetValue(distributed) switch
            {
                "none" => null,
                "mpi" => Runtime.MpiCommunicator.World(),
                "auto" => Runtime.MpiCommunicator.LaunchedAsSeveralRanks ? Runtime.MpiCommunicator.World() : null,
                var other => throw new DiffusionLabException($"unknown --distributed '{other}' (auto, mpi or none)"),
            };
            if (ranks is { Rank: > 0 }) output = TextWriter.Null; // rank 0 reports for all
            var compute = CommonOptions.ResolvePrecision(parse, precision, output); // before the data is read
            var (seed, device, outDir) = common.Apply(parse, lockFolder: ranks is not { Rank: > 0 });
            var p = ImageRunConfig.Preset(parse.GetValue(model)!);
            int e = parse.GetValue(epochs) ?? p.Epochs;
            var spec = parse.GetValue(dataset)!;
            int size = parse.GetValue(imageSize) ?? (p.Model == "unet" ? p.ImageSize : 64);
            var data = ImageDatasets.Load(spec, "train", size, 3);
            if (parse.GetValue(limit) is int lim)
            {
                if (lim < 1) throw new DiffusionLabException($"--limit must be positive, got {lim}");
                data = data.Subset(Enumerable.Range(0, Math.Min(lim, data.Count)).ToArray());
            }
            var t = p.Training;
            var lrs = parse.GetValue(lrSchedule) ?? t.LrSchedule;
            var config = p with
            {
                Dataset = spec, ImageSize = data.Height, Channels = data.Channels, ClassNames = data.ClassNames.ToArray(),
                Epochs = e, BatchSize = parse.GetValue(batch) ?? p.BatchSize, Hidden = parse.GetValue(hidden) ?? p.Hidden,
                Schedule = parse.GetValue(schedule) ?? p.Schedule, DiffusionSteps = parse.GetValue(diffusionSteps) ?? p.DiffusionSteps,
                Prediction = parse.GetValue(prediction) ?? p.Prediction, PUncond = parse.GetValue(pUncond) ?? p.PUncond,
                Sigma = parse.GetValue(sigma) ?? p.Sigma, Flip = parse.GetValue(flip) ?? p.Flip, GridEvery = parse.GetValue(gridEvery), GridGuidanceScale = parse.GetValue(gridGuidance) ?? p.GridGuidanceScale,
                NoFlipClasses = parse.GetValue(noFlip) switch
                {
                    null => ImageRunConfig.DefaultNoFlipClasses(spec),
                    "none" => null,
                    string list => ClassSelector.Parse(list, data.ClassNames, nameof(ImageRunConfig.NoFlipClasses)).Distinct().Order().Select(c => data.ClassNames[c]).ToArray(),
                },
                ClassConditional = !parse.GetValue(uncond),
                InitFrom = parse.GetValue(initFrom),
                UNet = p.UNet with
                {
                    Ch = parse.GetValue(ch) ?? p.UNet.Ch,
                    ChMult = (parse.GetValue(chMult) is string cm ? CommonOptions.ParseInts(cm, "--ch-mult") : null) ?? p.UNet.ChMult,
                    NumResBlocks = parse.GetValue(resBlocks) ?? p.UNet.NumResBlocks,
                    AttnResolutions = (parse.GetValue(attn) is string at ? CommonOptions.ParseInts(at, "--attn") : null) ?? p.UNet.AttnResolutions,
                    Dropout = parse.GetValue(dropout) ?? p.UNet.Dropout,
                },
                Training = t with
                {
                    LearningRate = parse.GetValue(lr) ?? t.LearningRate, LrSchedule = lrs,
                    LrGamma = lrs == "exponential" ? Math.Pow(0.1, 1.0 / e) : 1.0,
                    EmaDecay = parse.GetValue(ema) ?? t.EmaDecay, GradClip = parse.GetValue(clip) ?? t.GradClip, Seed = seed, Precision = compute,
                },
            };
            // the text model's own options, given without --text, would be ignored: refused instead
            foreach (var (option, what) in new (Option, string)[]
            {
                (textEncoder, "chooses what reads a text model's prompts"), (textWidth, "sets the prompt encoder's width, which only a text model has"),
                (maxTokens, "sets how many tokens a prompt is read as, which only a text model has"),
            })
                if (!parse.GetValue(text) && parse.GetResult(option) is { Implicit: false })
                    throw new DiffusionLabException($"{option.Name} {what}: give --text too");
            if (parse.GetValue(promptPrior) && parse.GetValue(textEncoder) != Conditioning.MiniLmPromptEncoder.Name)
                throw new DiffusionLabException($"--prompt-prior reads the sentence embedding of a frozen encoder: give --text --text-encoder {Conditioning.MiniLmPromptEncoder.Name}");
            if (parse.GetValue(text))
            {
                if (config.Model != "unet") throw new DiffusionLabException("--text needs --model unet (the CS180 U-Nets take a class, not a prompt)");
                if (parse.GetValue(uncond)) throw new DiffusionLabException("give --text or --unconditional, not both");
                if (data.Captions is null) throw new DiffusionLabException($"{spec} has no captions to train a text model on (emoji has: 'difflab data fetch emoji' writes them since 2026-12-04)");
                if (parse.GetValue(textEncoder) == "learned")
                {
                    var vocabulary = Conditioning.PromptVocabulary.FromCaptions(data.Captions.SelectMany(c => c), parse.GetValue(maxTokens));
                    config = config with
                    {
                        PromptTokens = vocabulary.Gpt2Ids.ToArray(),
                        UNet = config.UNet with { Text = new Models.TextEncoderConfig { VocabSize = vocabulary.Size, MaxTokens = vocabulary.MaxTokens, Width = parse.GetValue(textWidth) } },
                    };
                    output.WriteLine($"prompt vocabulary: {vocabulary.Gpt2Ids.Count} GPT-2 tokens of {data.Captions.Sum(c => c.Length)} captions, prompts read as at most {vocabulary.MaxTokens} tokens");
                }
                else
                {
                    var frozen = new Conditioning.MiniLmPromptEncoder(parse.GetValue(maxTokens));
                    config = config with { UNet = config.UNet with { Text = new Models.TextEncoderConfig { Frozen = Conditioning.MiniLmPromptEncoder.Name, MaxTokens = frozen.MaxTokens, Width = parse.GetValue(textWidth), Categories = parse.GetValue(promptPrior) ? data.NumClasses : 0 } } };
                    output.WriteLine($"prompts read by the frozen {Conditioning.MiniLmPromptEncoder.Name} encoder, at most {frozen.MaxPromptTokens} word pieces each ({data.Captions.Sum(c => c.Length)} captions)");
                }
            }
            if (config.Model.StartsWith("cs180") && parse.GetValue(imageSize) is null && data.Height % 4 != 0)
                throw new DiffusionLabException($"the CS180 U-Net needs an image size divisible by 4; the dataset has {data.Height} px");
            using var run = ImageRun.Create(config, device);
            ResourceCheck.EnsureMemory(run.EstimatedBatchBytes(config.BatchSize, training: true), $"a training step on batches of {config.BatchSize}", "lower --batch-size");
            if (config.InitFrom is string source && !parse.GetValue(resume)) output.WriteLine(run.InitialiseFrom(source).Describe(source));
            if (run.PromptPrior is not null && !parse.GetValue(resume))
            {
                var (captions, accuracy) = run.FitPromptPrior(data);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prompt-category prior: fitted to {captions:N0} captions, {accuracy:P1} of them read as their image's category"));
            }
            long parameters = run.Network.parameters().Sum(x => x.numel());
            int perEpoch = data.Count / config.BatchSize;
            if (ranks is { Size: > 1 })
                output.WriteLine($"data parallel over MPI: {ranks.Size} ranks, {config.BatchSize / ranks.Size} images of each batch of {config.BatchSize} per rank");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{config.Model}: {parameters:N0} parameters; {data.Name}: {data.Count} images of {data.Channels}×{data.Height}×{data.Width}, {data.NumClasses} classes; {config.Epochs} epochs × {perEpoch} steps of {config.BatchSize}; {Runtime.NativeRuntime.Describe()}; {run.ChooseLayout(training: true, config.BatchSize, config.Training.Precision).Describe()}{(config.Training.Precision == "fp32" ? "" : $"; {config.Training.Precision} mixed precision")}"));
            var clock = Stopwatch.StartNew();
            var epochClock = Stopwatch.StartNew();
            IReadOnlyList<LossPoint> history = [];
            double lastLoss = double.NaN, allReduceSeconds = 0;
            long logged = 0;
            long totalSteps = (long)perEpoch * config.Epochs;
            var progress = new ProgressReporter(output, "training");
            if (parse.GetValue(resume)) progress.Resumed();
            void OnEpoch(int epoch)
            {
                double s = epochClock.Elapsed.TotalSeconds;
                epochClock.Restart();
                progress.Done();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch}/{config.Epochs}: loss {lastLoss:F4}, {s:F1} s ({perEpoch * config.BatchSize / s:F0} img/s incl. checkpoint and grid); {Runtime.NativeRuntime.DescribeMemory()}"));
            }
            using var signals = new StopSignals(output);
            long reached = 0;
            try
            {
                history = run.Train(data, outDir, parse.GetValue(resume), e => { lastLoss = e.Loss; allReduceSeconds += e.AllReduceSecondsPerStep; logged++; }, onEpoch: OnEpoch, tensorBoard: parse.GetValue(tensorBoard), ranks: ranks,
                    shouldStop: () => signals.Requested,
                    onStep: step => { reached = step; progress.Report(step, totalSteps, double.IsNaN(lastLoss) ? null : string.Create(CultureInfo.InvariantCulture, $"loss {lastLoss:F4}")); });
            }
            finally { progress.Done(); }
            if (reached < totalSteps && signals.Requested)
            {
                output.WriteLine($"stopped by {signals.Name} at step {reached:N0} of {totalSteps:N0}: {outDir}/checkpoint.bin holds it; the same command with --resume continues exactly");
                return signals.ExitCode;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained in {clock.Elapsed.TotalSeconds:F1} s; final loss {history[^1].Loss:F4}"));
            if (ranks is { Size: > 1 } && logged > 0)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"gradient all-reduce: {1000 * allReduceSeconds / logged:F1} ms per step on average over the logged windows ({run.Network.parameters().Sum(x => x.numel()):N0} floats, waiting for the slowest rank included)"));
            output.WriteLine($"wrote {outDir}/config.json, checkpoint.bin, loss.csv, loss.png, samples/");
            return 0;
        });
        return cmd;
    }
}
