using DiffusionLab.Data;
using DiffusionLab.Models;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab sample</c>.</summary>
public static class SampleCommand
{
    /// <summary>A grid row's name for a prompt (the empty prompt is the unconditional model).</summary>
    private static string RowName(string prompt) => prompt.Length == 0 ? "(empty prompt)" : prompt;

    public static Command Build(TextWriter output)
    {
        var run = new Option<string?>("--run") { Description = "Run folder written by 'difflab train'." };
        var model = new Option<string?>("--model") { Description = "Model folder (config.json + weights.bin); default: the shipped models/mnist-cs180-class." };
        // the shipped MNIST model's samples go to out/samples (the README's main job), another model's to a folder of its
        // own, out/samples-NAME: output folders never mix runs, and a second model is not refused for the first one's files
        var common = new CommonOptions("out/samples")
        {
            DefaultOutOf = parse => (parse.GetValue(run) ?? parse.GetValue(model)) is string source
                ? $"out/samples-{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source)))}" : null,
        }.Sharded();
        common.Out.Description = "Output folder (created if missing); default: out/samples for the shipped MNIST model, out/samples-NAME for --model or --run NAME.";
        var sampler = new Option<string>("--sampler") { Description = "dpm++2m (DPM-Solver++(2M), the default, in 20 steps: as good as 300 DDPM steps at γ = 5 on the shipped model, docs/RESULTS.md), ddpm (ancestral; strided with --steps < T), ddim, dpm++2s (DPM-Solver++(2S), 2 evaluations per step), dpm++2m-sde (its stochastic form: best at 10 steps on an imperfect network), unipc (UniPC-2, predictor-corrector) or heun-karras (EDM's Heun on Karras σ; --steps levels, 2 evaluations each).", DefaultValueFactory = _ => ImageVerbs.SampleDefaultSampler };
        var steps = new Option<int?>("--steps") { Description = $"Sampling steps (default: {ImageVerbs.SampleDefaultSteps} for {ImageVerbs.SampleDefaultSampler}, all T for ddpm, 50 for the others)." };
        var eta = new Option<double>("--eta") { Description = "DDIM η in [0, 1].", DefaultValueFactory = _ => 0.0 };
        var variance = new Option<string>("--variance") { Description = "DDPM noise: posterior (β̃_t) or beta (β_t, the CS180 update).", DefaultValueFactory = _ => "posterior" };
        var classes = new Option<string?>("--class", "-c") { Description = "Class index or name (or an unambiguous prefix: --class animals), comma list, or 'all' (default for class-conditional models: all classes, one row each)." };
        var scale = new Option<double?>("--guidance-scale") { Description = $"γ in ε_u + γ(ε_c − ε_u) (0 = unconditional, 1 = conditional; default {ClassifierFreeGuidance.DefaultScale})." };
        var w = new Option<double?>("--guidance-w") { Description = "w in (1 + w)ε_c − wε_u (Ho & Salimans 2022); the same as --guidance-scale 1 + w." };
        var uncond = new Option<bool>("--unconditional") { Description = "Sample a class-conditional model with the null class only." };
        var prompt = new Option<string[]>("--prompt", "-p") { Description = "A text-conditioned model (train --text): the prompt; repeat it for several, one grid row each (--n is spread over them). The empty prompt is the unconditional model.", AllowMultipleArgumentsPerToken = false };
        var n = new Option<int?>("--n") { Description = "Number of images (default: 10 per class, or 64)." };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 100 };
        var gif = new Option<bool>("--gif") { Description = "Also write trajectory.gif: the first batch from noise to images." };
        var noImages = new Option<bool>("--grid-only") { Description = "Skip the individual PNGs." };
        var promptsFrom = new Option<string?>("--prompts-from") { Description = "A text model: prompt each sample with an image's caption from this captioned split (emoji:heldout: names the model never trained on), --n of them spread over the split, files named by the image's class (for 'eval accuracy')." };
        var scales = new Option<string?>("--guidance-scales") { Description = "Instead of samples: OUT/guidance-grid.png, one row per class or prompt and one column per γ in this comma list (the same noise along a row), as the noise-schedule assignment's bonus asks." };
        var clipX0 = new Option<double?>("--clip-x0") { Description = "Clip the predicted x̂_0 to [−c, c] at every step (1 = diffusers' clip_sample; 0 = off; default: 1 for unet models, as DDPM's and diffusers' samplers do, off for the CS180 U-Nets)." };
        var classifier = new Option<string?>("--classifier") { Description = "Classifier guidance (Dhariwal & Nichol 2021) with this noise-aware classifier (classifier train --noisy); the base is the unconditional pass unless --guidance-scale is given." };
        var classifierScale = new Option<double>("--classifier-scale") { Description = "Classifier guidance scale s.", DefaultValueFactory = _ => 1.0 };
        var precision = CommonOptions.Precision("the network (samples differ slightly)");
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the samples an earlier run left in --out (only the files its manifest.json lists)." };
        var grid = new Option<string?>("--grid") { Description = $"The steps the sampler visits: {string.Join(", ", Schedules.StepGrid.Names)} or list:T1,T2,… (decreasing); default: the sampler's own (uniform; heun-karras: karras)." };
        var cmd = new Command("sample", "Generate images: individual PNGs in OUT/images/, OUT/grid.png (one row per class), optional OUT/trajectory.gif.");
        foreach (var o in new Option[] { run, model, sampler, steps, grid, eta, variance, classes, scale, w, uncond, prompt, promptsFrom, n, batch, gif, noImages, scales, classifier, classifierScale, clipX0, precision, overwrite }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(scale) is not null && parse.GetValue(w) is not null) throw new DiffusionLabException("give --guidance-scale or --guidance-w, not both");
            if (parse.GetValue(n) is < 1) throw new DiffusionLabException($"--n must be positive, got {parse.GetValue(n)}");
            var compute = CommonOptions.ResolvePrecision(parse, precision, output);
            var (seed, device, outDir) = common.Apply(parse);
            var shard = common.ShardOf(parse);
            using var m = ImageVerbs.OpenModel(parse.GetValue(run), parse.GetValue(model), device);
            double gamma = parse.GetValue(scale) ?? (parse.GetValue(w) is double ww ? ClassifierFreeGuidance.ScaleFromW(ww) : ClassifierFreeGuidance.DefaultScale);
            int k = m.NumClasses;
            var classSpec = parse.GetValue(classes);
            int[]? classList = null;
            var prompts = parse.GetValue(prompt) is { Length: > 0 } given ? given : null;
            int[]? captionClasses = null; // --prompts-from: the class of each sample's caption image
            if (parse.GetValue(promptsFrom) is string source)
            {
                if (prompts is not null) throw new DiffusionLabException("give --prompt or --prompts-from, not both");
                int colon = source.LastIndexOf(':');
                var split = ImageDatasets.Load(colon > 0 ? source[..colon] : source, colon > 0 ? source[(colon + 1)..] : "heldout", m.Config.ImageSize, m.Config.Channels);
                if (split.Captions is null) throw new DiffusionLabException($"{source} has no captions (emoji has: 'difflab data fetch emoji')");
                int want = parse.GetValue(n) ?? split.Count;
                if (want < 1) throw new DiffusionLabException($"--n must be positive, got {want}");
                var picked = Enumerable.Range(0, want).Select(i => (int)((long)i * split.Count / want)).ToArray();
                prompts = picked.Select(i => split.Captions[i][0]).ToArray();
                captionClasses = picked.Select(i => split.Labels[i]).ToArray();
                if (m.PromptPrior is not null)
                {
                    // how the prompt-category prior alone reads these captions: the share whose image's category it puts first
                    using var probabilities = m.PromptCategoryProbabilities(prompts);
                    var read = probabilities.argmax(1).data<long>().ToArray();
                    int right = read.Where((c, i) => c == captionClasses[i]).Count();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prompt-category prior: {right} of {read.Length} captions of {source} ({(double)right / read.Length:P1}) read as their image's category"));
                }
            }
            if (prompts is not null && m.PromptEncoder is null) throw new DiffusionLabException("this model is not text-conditioned: --prompt needs a model trained with --text (use --class)");
            if (prompts is not null && classSpec is not null) throw new DiffusionLabException("give --prompt or --class, not both");
            if (m.PromptEncoder is not null && !parse.GetValue(uncond)) prompts ??= [""]; // a text model without a prompt: the empty one
            if (prompts is not null && captionClasses is null)
                foreach (var text in prompts)
                {
                    var tokens = m.PromptEncoder!.Encode(text);
                    if (tokens.Unknown.Count > 0) output.WriteLine($"prompt '{text}': words the model's vocabulary lacks (never in a caption, or no word piece of its encoder), read as unknown or left out: {string.Join(" ", tokens.Unknown.Select(u => u.Trim()))}");
                    if (tokens.Truncated > 0) output.WriteLine($"prompt '{text}': cut to its first {m.PromptEncoder.MaxPromptTokens} tokens ({tokens.Truncated} left out)");
                }
            if (prompts is not null && captionClasses is null && m.PromptPrior is not null)
            {
                // what the prompt-category prior reads each prompt as (its class embedding is the weighted mix of these)
                var distinct = prompts.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct().ToArray();
                using var probabilities = m.PromptCategoryProbabilities(distinct);
                for (int i = 0; i < distinct.Length; i++)
                {
                    var row = probabilities[i].data<float>().ToArray();
                    var top = Enumerable.Range(0, row.Length).OrderByDescending(c => row[c]).Take(2).ToArray();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prompt '{distinct[i]}': category {m.Config.ClassNames[top[0]]} ({row[top[0]]:P0}), then {m.Config.ClassNames[top[1]]} ({row[top[1]]:P0})"));
                }
            }
            if (prompts is null && (parse.GetValue(uncond) || k == 0))
            {
                if (classSpec is not null) m.CheckLabels(ClassSelector.Parse(classSpec, m.Config.ClassNames));
            }
            else if (prompts is null) classList = classSpec is null or "all" ? Enumerable.Range(0, k).ToArray() : ClassSelector.Parse(classSpec, m.Config.ClassNames);
            if (classList is not null) m.CheckLabels(classList);
            int count = captionClasses?.Length ?? parse.GetValue(n) ?? (prompts is not null ? 8 * prompts.Length : classList is null ? 64 : 10 * classList.Length);
            if (count < 1) throw new DiffusionLabException($"--n must be positive, got {count}");
            if (parse.GetValue(batch) < 1) throw new DiffusionLabException($"--batch-size must be positive, got {parse.GetValue(batch)}");
            var (from, to) = shard.Range(count, parse.GetValue(batch));
            if (!parse.GetValue(noImages)) // before anything of --n's size is made
                ResourceCheck.EnsureDisk(outDir, (double)(to - from) * m.EstimatedPngBytes, $"writing {count:N0} PNGs", "lower --n, use --grid-only, or choose another --out");
            int[]? labels = classList is null ? null : Enumerable.Range(0, count).Select(i => classList[(int)((long)i * classList.Length / count)]).ToArray();
            // prompts spread over the samples as classes are; their indices group the grid's rows
            int[]? promptIndex = prompts is null ? null : Enumerable.Range(0, count).Select(i => (int)((long)i * prompts.Length / count)).ToArray();
            using var guide = parse.GetValue(classifier) is string cdir ? Evaluation.Classifier.Load(cdir, device) : null;
            if (guide is not null && labels is null) throw new DiffusionLabException("classifier guidance needs a class (--class)");
            bool cfgBase = parse.GetValue(scale) is not null || parse.GetValue(w) is not null;
            var options = new ImageSampleOptions
            {
                Sampler = parse.GetValue(sampler)!, Grid = parse.GetValue(grid), Steps = parse.GetValue(steps) ?? (parse.GetValue(sampler) == ImageVerbs.SampleDefaultSampler ? ImageVerbs.SampleDefaultSteps : null), Eta = parse.GetValue(eta), Variance = parse.GetValue(variance)!,
                Labels = labels, Prompts = promptIndex?.Select(i => prompts![i]).ToArray(), GuidanceScale = labels is null && prompts is null ? 1 : gamma, BatchSize = parse.GetValue(batch), Seed = seed, ClipX0 = parse.GetValue(clipX0), Precision = compute, Shard = shard,
                Conditioning = guide is null ? null : (start, k) => new Conditioning.ClassifierGuidance(guide, m.LabelTensor(labels![start..(start + k)]),
                    parse.GetValue(classifierScale), cfgBase ? m.ClassCondition(labels[start..(start + k)], gamma) : null),
            };
            if (guide is not null && !cfgBase) gamma = 0; // the base of classifier guidance is the unconditional pass
            m.GridOf(options); // a bad --grid or --steps is an error before the folder is touched
            // after the options and the model are checked (their errors come first), before any sampling work
            OutputManifest.Prepare(outDir, "sample", parse.GetValue(overwrite), "images", "grid.png", "trajectory.gif", "guidance-grid.png");
            if (parse.GetValue(scales) is string scaleList)
            {
                if (parse.GetValue(scale) is not null || parse.GetValue(w) is not null) throw new DiffusionLabException("give --guidance-scales or a single --guidance-scale/--guidance-w, not both");
                var gammas = CommonOptions.ParseDoubles(scaleList, "--guidance-scales");
                if (gammas.Length == 0 || gammas.Any(g => !(g >= 0) || !double.IsFinite(g))) throw new DiffusionLabException($"--guidance-scales must list γ ≥ 0, got '{scaleList}'");
                if (classList is null && prompts is null) throw new DiffusionLabException("--guidance-scales needs a class or a prompt (a model without either has nothing to guide)");
                int rows = prompts?.Length ?? classList!.Length;
                var columns = new List<Tensor>();
                foreach (var g in gammas)
                    columns.Add(m.Sample(rows, options with
                    {
                        Labels = classList, Prompts = prompts?.Select(p => (string?)p).ToArray(), GuidanceScale = g, Conditioning = null,
                    }).cpu());
                var rowNames = prompts?.Select(RowName).ToArray() ?? classList!.Select(c => m.Config.ClassNames[c]).ToArray();
                var sweep = Path.Combine(outDir, "guidance-grid.png");
                ImageGrid.SaveRows(sweep, Enumerable.Range(0, rows).Select(r => torch.stack(columns.Select(c => c[r]).ToArray())).ToList(), rowNames,
                    gammas.Select(g => string.Create(CultureInfo.InvariantCulture, $"γ = {g:G3}")).ToArray());
                foreach (var c in columns) c.Dispose();
                new OutputManifest("sample", ["guidance-grid.png"], []).Write(outDir);
                output.WriteLine($"wrote {sweep}: {rows} rows × {gammas.Length} guidance scales ({scaleList})");
                return 0;
            }
            // the grid's rows: the classes, or the prompts; named by the class names or by the prompts themselves
            // (--prompts-from: by the captions' classes, and its files are named by them)
            int[]? groups = labels ?? captionClasses ?? promptIndex;
            int[]? fileLabels = labels ?? captionClasses;
            IReadOnlyList<string> groupNames = labels is not null || captionClasses is not null || prompts is null ? m.Config.ClassNames : prompts.Select(RowName).ToArray();
            int perBatch = Math.Min(options.BatchSize, count) * ClassifierFreeGuidance.Passes(groups is not null, gamma);
            ResourceCheck.EnsureMemory(m.EstimatedBatchBytes(perBatch, training: false), $"sampling in batches of {Math.Min(options.BatchSize, count)}", "lower --batch-size");
            var frames = parse.GetValue(gif) ? new List<Tensor>() : null;
            // images are written as each batch finishes (memory flat in --n; an interrupted run keeps what it wrote);
            // only what the grid shows is kept: 16 per class, or the first 256 without classes
            var dir = Path.Combine(outDir, "images");
            bool writeImages = !parse.GetValue(noImages);
            if (writeImages) Directory.CreateDirectory(dir);
            var written = new List<string>();
            var kept = new List<Tensor>();
            var keptLabels = new List<int>();
            var perClass = new Dictionary<int, int>();
            ImageVerbs.ReportShard(shard, from, to, count, options.BatchSize, "images", outDir, output);
            var progress = new ProgressReporter(output, $"sampling {to - from} images");
            var clock = Stopwatch.StartNew();
            try
            {
                m.SampleBatches(count, options, (start, batch) =>
                {
                    int k = (int)batch.shape[0];
                    var batchLabels = fileLabels?[start..(start + k)];
                    var batchGroups = groups?[start..(start + k)];
                    if (writeImages) written.AddRange(SampleSheets.SaveImages(batch, dir, batchLabels, start).Select(f => Path.Combine("images", Path.GetFileName(f))));
                    for (int i = 0; i < k; i++)
                    {
                        int label = batchGroups?[i] ?? -1;
                        int have = perClass.GetValueOrDefault(label);
                        if (have >= (batchGroups is null ? 256 : 16)) continue;
                        perClass[label] = have + 1;
                        kept.Add(batch[i].unsqueeze(0).detach().cpu().clone().DetachFromDisposeScope());
                        keptLabels.Add(label);
                    }
                }, frames is null ? null : (i, x) => frames.Add(x.detach().cpu().clone().DetachFromDisposeScope()), (done, total) => progress.Report(done, total));
            }
            finally { progress.Done(); }
            double seconds = clock.Elapsed.TotalSeconds;
            if (kept.Count == 0) // an empty shard
            {
                new OutputManifest("sample", written, []).Write(outDir);
                return 0;
            }
            using var images = torch.cat(kept, 0);
            foreach (var t in kept) t.Dispose();
            bool paired = ClassifierFreeGuidance.Passes(groups is not null, gamma) == 2; // conditional and unconditional passes, batched
            int nfe = m.FunctionEvaluations(options) * (paired ? 2 : 1);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{to - from} images, {options.Sampler} {m.GridOf(options).Length} steps{(options.Grid is null ? "" : $" on the {(options.Grid.StartsWith("list:", StringComparison.Ordinal) ? "given" : options.Grid)} grid")} ({nfe} network evaluations per image{(paired ? ", cond+uncond batched" : "")}), {seconds:F2} s{(groups is null ? "" : $", γ = {gamma}")}{(guide is null ? "" : $", classifier guidance s = {parse.GetValue(classifierScale)} (one classifier gradient per step)")}{(options.Precision == "fp32" ? "" : $", {options.Precision} mixed precision")}{(m.LastLayout is { } layout ? $"; {layout.Describe()}" : "")}"));
            if (writeImages) output.WriteLine($"wrote {to - from} PNGs to {dir}");
            var gridPath = Path.Combine(outDir, "grid.png");
            SampleSheets.WriteGrid(gridPath, images, groups is null ? null : keptLabels.ToArray(), groupNames);
            written.Add("grid.png");
            output.WriteLine($"wrote {gridPath}");
            if (frames is not null)
            {
                var gifPath = Path.Combine(outDir, "trajectory.gif");
                SampleSheets.WriteGif(gifPath, frames, groups, groupNames);
                foreach (var f in frames) f.Dispose();
                written.Add("trajectory.gif");
                output.WriteLine($"wrote {gifPath}");
            }
            new OutputManifest("sample", written, written.Where(f => f.StartsWith("images", StringComparison.Ordinal)).ToList()).Write(outDir);
            return 0;
        });
        return cmd;
    }
}
