using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffusionLab.Editing;
using DiffusionLab.Evaluation;
using DiffusionLab.Images;
using DiffusionLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab inpaint | sdedit | anagram | hybrid</c> (issue 6): editing with any trained image model.</summary>
public static class EditCommands
{
    /// <summary>The options every editing verb shares: the model, the class condition and the judge.</summary>
    private sealed class ModelOptions
    {
        public Option<string?> Run { get; } = new("--run") { Description = "Run folder written by 'difflab train'." };
        public Option<string?> Model { get; } = new("--model") { Description = "Model folder; default: the shipped models/mnist-cs180-class." };
        public Option<double?> Scale { get; } = new("--guidance-scale") { Description = $"γ of classifier-free guidance (default {ClassifierFreeGuidance.DefaultScale} with a class, else 1)." };
        public Option<string?> Judge { get; } = new("--judge") { Description = "Classifier that reads the results (default: the shipped models/mnist-classifier when the image size fits)." };
        public Option<int> Batch { get; } = new("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 100 };
        public Option<string> Precision { get; } = CommonOptions.Precision("the network");
        public Option<bool> Overwrite { get; } = new("--overwrite") { Description = "Replace the outputs an earlier run left in --out (only the files its manifest.json lists)." };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Run, Model, Scale, Judge, Batch, Precision, Overwrite }) c.Options.Add(o);
        }

        /// <summary>
        /// Refuses an --out that already holds outputs unless --overwrite (<see cref="OutputManifest.Prepare"/>); called
        /// after the options and the model are checked, before any editing work.
        /// </summary>
        public void PrepareOut(ParseResult parse, string outDir, string verb, params string[] ownNames) =>
            OutputManifest.Prepare(outDir, verb, parse.GetValue(Overwrite), ownNames);

        /// <summary>
        /// Refuses, before any work, an edit whose batch (<paramref name="passes"/> network images per image: guidance
        /// pairs, views) or whose <paramref name="kept"/> full-size copies of all <paramref name="count"/> images cannot fit
        /// in memory, or whose PNGs cannot fit on the disk of <paramref name="outDir"/>.
        /// </summary>
        public void CheckFits(ParseResult parse, ImageRun m, string outDir, int count, int passes, int kept, bool gradients = false)
        {
            int batch = Math.Min(parse.GetValue(Batch), count);
            double images = (double)count * kept * m.Config.Channels * m.Config.ImageSize * m.Config.ImageSize * sizeof(float);
            ResourceCheck.EnsureMemory(m.EstimatedBatchBytes((long)batch * passes, gradients) + images,
                $"editing {count:N0} images in batches of {batch}", "lower --n or --batch-size");
            ResourceCheck.EnsureDisk(outDir, (double)count * kept * m.EstimatedPngBytes, $"writing {count:N0} images", "lower --n or choose another --out");
        }

        /// <summary>The precision the verb computes in, set by <see cref="Open"/> (bf16 may be declined there).</summary>
        public string Compute { get; private set; } = "fp32";

        public ImageRun Open(ParseResult parse, Device device, TextWriter output)
        {
            Compute = CommonOptions.ResolvePrecision(parse, Precision, output);
            return ImageCommands.OpenModel(parse.GetValue(Run), parse.GetValue(Model), device);
        }

        /// <summary>The judge classifier, or null when none fits the model's images.</summary>
        public Classifier? OpenJudge(ParseResult parse, ImageRun m, TextWriter output)
        {
            var explicitJudge = parse.GetValue(Judge);
            string? dir = explicitJudge;
            if (dir is null)
            {
                try { dir = CommonOptions.ShippedModel("mnist-classifier", "--judge"); }
                catch (DiffusionLabException) { return null; }
            }
            var c = Classifier.Load(dir);
            if (c.Channels == m.Config.Channels && c.ImageSize == m.Config.ImageSize && c.Info.ClassNames.Length == m.NumClasses) return c;
            c.Dispose();
            if (explicitJudge is not null)
                throw new DiffusionLabException($"the judge {dir} reads {c.Channels}×{c.ImageSize}×{c.ImageSize} images of {c.Info.ClassNames.Length} classes; the model makes {m.Config.Channels}×{m.Config.ImageSize}×{m.Config.ImageSize} images of {m.NumClasses} classes");
            output.WriteLine("(no judge: the shipped classifier does not fit this model's images; give --judge)");
            return null;
        }
    }

    /// <summary>Where the images to edit come from: --image files or --from a dataset split / folder.</summary>
    private sealed class InputOptions
    {
        public Option<string?> Image { get; } = new("--image", "-i") { Description = "Image file(s) to edit, comma-separated (resized and converted to the model's format)." };
        public Option<string?> From { get; } = new("--from") { Description = "Images from a dataset split (mnist:heldout) or a folder; spread evenly over the set." };
        public Option<int> N { get; } = new("--n") { Description = "With --from: how many images (spread evenly over the set).", DefaultValueFactory = _ => 10 };
        public Option<string> Invert { get; } = new("--invert") { Description = "--image on a grayscale model: auto (invert mostly-bright drawings to white-on-black, like MNIST), yes or no.", DefaultValueFactory = _ => "auto" };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Image, From, N, Invert }) c.Options.Add(o);
        }

        public (Tensor Images, int[]? Labels) Load(ParseResult parse, ImageRun m, TextWriter output)
        {
            var image = parse.GetValue(Image);
            var from = parse.GetValue(From);
            if ((image is null) == (from is null)) throw new DiffusionLabException("give the images to edit with --image FILE or --from DATASET|FOLDER (one of them)");
            int size = m.Config.ImageSize, channels = m.Config.Channels;
            if (image is not null)
            {
                var invert = parse.GetValue(Invert)!;
                if (invert is not ("auto" or "yes" or "no")) throw new DiffusionLabException($"--invert must be auto, yes or no, got '{invert}'");
                var list = new List<Tensor>();
                foreach (var path in image.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var x = ImageTensor.LoadSquare(path, size, channels);
                    bool flip = invert == "yes" || (invert == "auto" && channels == 1 && x.mean().item<float>() > 0);
                    if (flip)
                    {
                        x = -x;
                        if (invert == "auto") output.WriteLine($"{path}: mostly bright, inverted to white on black like the training data (--invert no to keep it)");
                    }
                    list.Add(x);
                }
                var all = torch.stack(list);
                foreach (var t in list) t.Dispose();
                return (all, null);
            }
            int n = parse.GetValue(N);
            if (n < 1) throw new DiffusionLabException($"--n must be positive, got {n}");
            using var set = ImageSets.Load(from!);
            if (set.Channels != channels || set.Height != size || set.Width != size)
                throw new DiffusionLabException($"{from} holds {set.Channels}×{set.Height}×{set.Width} images but the model works on {channels}×{size}×{size}");
            n = Math.Min(n, set.Count);
            var idx = Enumerable.Range(0, n).Select(i => (long)i * set.Count / n).ToArray();
            var images = set.Images.index_select(0, torch.tensor(idx));
            return (images, set.Labels is null ? null : idx.Select(i => set.Labels[i]).ToArray());
        }
    }

    /// <summary>--class: one class for all, 'data' for the dataset's own labels, or none (unconditional).</summary>
    private static int[]? Labels(string? spec, int count, int[]? dataLabels, ImageRun m)
    {
        if (spec is null) return null;
        if (spec == "data")
            return dataLabels ?? throw new DiffusionLabException("--class data needs labelled inputs (--from a dataset split or -classC file names)");
        var cls = CommonOptions.ParseInts(spec, "--class");
        if (cls.Length != 1 && cls.Length != count) throw new DiffusionLabException($"--class: give one class or one per image ({count}), got {cls.Length}");
        m.CheckLabels(cls);
        return Enumerable.Range(0, count).Select(i => cls[cls.Length == 1 ? 0 : i]).ToArray();
    }

    public static Command BuildInpaint(TextWriter output)
    {
        var common = new CommonOptions("out/inpaint");
        var model = new ModelOptions();
        var input = new InputOptions();
        var mask = new Option<string>("--mask") { Description = "centre[:FRACTION], rect:X,Y,W,H, strokes[:N], top, bottom, left, right, or a PNG (white = fill).", DefaultValueFactory = _ => "centre" };
        var cls = new Option<string?>("--class", "-c") { Description = "Class to fill in with (one, one per image, or 'data' for the inputs' labels); default: unconditional." };
        var steps = new Option<int>("--steps") { Description = "Denoising steps.", DefaultValueFactory = _ => 50 };
        var jump = new Option<int>("--jump") { Description = "RePaint jump length j.", DefaultValueFactory = _ => 5 };
        var resample = new Option<int>("--resample") { Description = "RePaint resample count r (1 = none).", DefaultValueFactory = _ => 1 };
        var mcg = new Option<double>("--mcg") { Description = "MCG gradient step α (0 = plain replacement).", DefaultValueFactory = _ => 0 };
        var compare = new Option<bool>("--compare") { Description = "Run plain replacement and MCG (α = --mcg, default 1) on the same masks and noise, side by side." };
        var cmd = new Command("inpaint", "Fill a masked region (RePaint replacement, optional resampling and MCG): OUT/grid.png (original, masked, result) and OUT/images/ (with --compare, MCG in OUT/images-mcg/).");
        foreach (var o in new Option[] { mask, cls, steps, jump, resample, mcg, compare }) cmd.Options.Add(o);
        model.AddTo(cmd);
        input.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            var (images, dataLabels) = input.Load(parse, m, output);
            using var _ = images;
            var labels = Labels(parse.GetValue(cls), (int)images.shape[0], dataLabels, m);
            double gamma = labels is null ? 1 : parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            using var holes = Masks.Parse(parse.GetValue(mask)!, m.Config.ImageSize, seed);
            var options = new InpaintOptions { Steps = parse.GetValue(steps), JumpLength = parse.GetValue(jump), Resamples = parse.GetValue(resample), McgScale = parse.GetValue(mcg) };
            var runs = new List<(string Name, InpaintOptions Options)>();
            if (parse.GetValue(compare))
            {
                runs.Add(("replacement", options with { McgScale = 0 }));
                runs.Add(($"MCG α={(options.McgScale > 0 ? options.McgScale : 1).ToString(CultureInfo.InvariantCulture)}", options with { McgScale = options.McgScale > 0 ? options.McgScale : 1 }));
            }
            else runs.Add((options.McgScale > 0 ? "MCG" : "RePaint", options));
            model.PrepareOut(parse, outDir, "inpaint", "images", "images-mcg", "images-replacement", "grid.png");
            model.CheckFits(parse, m, outDir, (int)images.shape[0], gamma is 0 or 1 ? 1 : 2, 2 + runs.Count, gradients: runs.Any(r => r.Options.McgScale > 0));
            var rows = new List<Tensor> { images, images * (1 - holes) };
            var names = new List<string> { "original", "masked" };
            Tensor? first = null;
            foreach (var (name, o) in runs)
            {
                var clock = Stopwatch.StartNew();
                var generator = TensorOps.SeededGenerator(seed);
                var result = m.Edit(images, labels, gamma, parse.GetValue(model.Batch), (dm, x, start) => Inpainting.Run(dm, x, holes, o, generator), model.Compute);
                double err = (result - images).mul(1 - holes).abs().max().item<float>();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {images.shape[0]} images, {Inpainting.NetworkEvaluations(m.Config.DiffusionSteps, o)} network evaluations each{(labels is null ? "" : $", γ = {gamma}")}, {clock.Elapsed.TotalSeconds:F1} s; largest change outside the hole: {err:G3}"));
                rows.Add(result);
                names.Add(name);
                first ??= result;
            }
            var written = ImageCommands.SaveImages(first!, Path.Combine(outDir, "images"), labels ?? dataLabels); // named by the true class when known, for 'eval accuracy'
            for (int r = 1; r < runs.Count; r++) written.AddRange(ImageCommands.SaveImages(rows[2 + r], Path.Combine(outDir, $"images-{(runs[r].Options.McgScale > 0 ? "mcg" : "replacement")}"), labels ?? dataLabels));
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), rows.Select(r => r[..Math.Min(16, (int)r.shape[0])]).ToList(), names);
            written.Add(Path.Combine(outDir, "grid.png"));
            WriteManifest(outDir, "inpaint", written);
            foreach (var r in rows.Skip(1)) r.Dispose();
            output.WriteLine($"wrote {outDir}/grid.png and {images.shape[0]} PNGs to {outDir}/images");
            return 0;
        });
        return cmd;
    }

    public static Command BuildSdEdit(TextWriter output)
    {
        var common = new CommonOptions("out/sdedit");
        var model = new ModelOptions();
        var input = new InputOptions();
        var cls = new Option<string?>("--class", "-c") { Description = "Class to edit towards (one, one per image, or 'data'); default: unconditional." };
        var steps = new Option<int>("--steps") { Description = "Strided denoising steps K: the start levels are 0 (pure noise) … K (the input).", DefaultValueFactory = _ => 30 };
        var starts = new Option<string?>("--i-start") { Description = "Start levels, comma-separated (default: the seed's 1,3,5,7,10,20)." };
        var strength = new Option<string?>("--strength") { Description = "Instead of --i-start: strengths in [0, 1] (1 = pure noise, 0 = the input), comma-separated." };
        var cmd = new Command("sdedit", "Image-to-image (SDEdit): noise inputs to each start level and denoise; OUT/strip.png has one row per input, one column per level.");
        foreach (var o in new Option[] { cls, steps, starts, strength }) cmd.Options.Add(o);
        model.AddTo(cmd);
        input.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            if (parse.GetValue(starts) is not null && parse.GetValue(strength) is not null) throw new DiffusionLabException("give --i-start or --strength, not both");
            using var m = model.Open(parse, device, output);
            int k = parse.GetValue(steps);
            Schedules.StepGrid.Uniform(m.Config.DiffusionSteps, k); // checks --steps
            var levels = parse.GetValue(strength) is string s
                ? CommonOptions.ParseDoubles(s, "--strength").Select(v => SdEdit.StartFromStrength(v, k)).ToArray()
                : CommonOptions.ParseInts(parse.GetValue(starts) ?? "1,3,5,7,10,20", "--i-start");
            foreach (var l in levels)
                if (l < 0 || l > k) throw new DiffusionLabException($"the start level {l} is beyond the schedule: levels run from 0 (pure noise) to {k} (the input) with --steps {k}");
            var (images, dataLabels) = input.Load(parse, m, output);
            using var _ = images;
            var labels = Labels(parse.GetValue(cls), (int)images.shape[0], dataLabels, m);
            double gamma = labels is null ? 1 : parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            model.PrepareOut(parse, outDir, "sdedit", [.. levels.Select(l => $"i_start-{l}"), "strip.png"]);
            model.CheckFits(parse, m, outDir, (int)images.shape[0], gamma is 0 or 1 ? 1 : 2, 1 + levels.Length);
            var written = new List<string>();
            var columns = new List<Tensor>();
            var clock = Stopwatch.StartNew();
            foreach (var level in levels)
            {
                var generator = TensorOps.SeededGenerator(seed);
                var edited = m.Edit(images, labels, gamma, parse.GetValue(model.Batch), (dm, x, start) => SdEdit.Run(dm, x, level, k, generator), model.Compute);
                written.AddRange(ImageCommands.SaveImages(edited, Path.Combine(outDir, $"i_start-{level}"), labels));
                columns.Add(edited);
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{images.shape[0]} images × {levels.Length} start levels ({string.Join(", ", levels)} of {k}), {clock.Elapsed.TotalSeconds:F1} s{(labels is null ? "" : $", γ = {gamma}")}"));
            // one row per input: the input, then its edit at each level
            var rows = Enumerable.Range(0, (int)Math.Min(16, images.shape[0]))
                .Select(i => torch.stack(columns.Select(c => c[i]).Prepend(images[i]))).ToList();
            ImageGrid.SaveRows(Path.Combine(outDir, "strip.png"), rows, null, ["input", .. levels.Select(l => $"i={l}")]);
            written.Add(Path.Combine(outDir, "strip.png"));
            WriteManifest(outDir, "sdedit", written);
            foreach (var c in columns) c.Dispose();
            output.WriteLine($"wrote {outDir}/strip.png and {outDir}/i_start-*/");
            return 0;
        });
        return cmd;
    }

    public static Command BuildAnagram(TextWriter output)
    {
        var common = new CommonOptions("out/anagram");
        var model = new ModelOptions();
        var cls = new Option<int>("--class", "-c") { Description = "Class the image shows as is.", Required = true };
        var viewCls = new Option<int>("--view-class") { Description = "Class it shows through the view.", Required = true };
        var view = new Option<string>("--view") { Description = $"The view: {string.Join(", ", ImageView.All.Select(v => $"{v.Name} ({v.Description})"))}.", DefaultValueFactory = _ => "flip" };
        var n = new Option<int>("--n") { Description = "Number of anagrams.", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "DDPM steps (strided).", DefaultValueFactory = _ => 100 };
        var cmd = new Command("anagram", "Visual anagrams: images that read as --class as is and as --view-class through --view; OUT/grid.png shows both, OUT/judge.json how the classifier reads them.");
        foreach (var o in new Option[] { cls, viewCls, view, n, steps }) cmd.Options.Add(o);
        model.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            var v = ImageView.Parse(parse.GetValue(view)!);
            int count = parse.GetValue(n);
            if (count < 1) throw new DiffusionLabException($"--n must be positive, got {count}");
            int c1 = parse.GetValue(cls), c2 = parse.GetValue(viewCls);
            m.CheckLabels([c1, c2]);
            double gamma = parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            model.PrepareOut(parse, outDir, "anagram", "images", "grid.png", "judge.json");
            model.CheckFits(parse, m, outDir, count, 4, 2); // two views, each a guided pair
            var clock = Stopwatch.StartNew();
            using var images = m.Sample(count, new ImageSampleOptions
            {
                Sampler = "ddpm", Steps = parse.GetValue(steps), BatchSize = parse.GetValue(model.Batch), Seed = seed, Precision = model.Compute,
                Conditioning = (start, k) => new VisualAnagram(m.LabelTensor(Enumerable.Repeat(c1, k).ToArray()), m.LabelTensor(Enumerable.Repeat(c2, k).ToArray()), v, gamma),
            }).cpu();
            using var viewed = v.Apply(images);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} anagrams ({c1} as is, {c2} {v.Description}), γ = {gamma}, {clock.Elapsed.TotalSeconds:F1} s"));
            string[] names = [$"as is ({m.Config.ClassNames[c1]})", $"{v.Description} ({m.Config.ClassNames[c2]})"];
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), [images[..Math.Min(16, count)], viewed[..Math.Min(16, count)]], names);
            var written = ImageCommands.SaveImages(images, Path.Combine(outDir, "images"), null);
            written.Add(Path.Combine(outDir, "grid.png"));
            using var judge = model.OpenJudge(parse, m, output);
            if (judge is not null) written.Add(Judge(judge, [(names[0], images, c1), (names[1], viewed, c2)], Path.Combine(outDir, "judge.json"), output));
            WriteManifest(outDir, "anagram", written);
            output.WriteLine($"wrote {outDir}/grid.png and {outDir}/images/");
            return 0;
        });
        return cmd;
    }

    public static Command BuildHybrid(TextWriter output)
    {
        var common = new CommonOptions("out/hybrid");
        var model = new ModelOptions();
        var far = new Option<int>("--far") { Description = "Class seen from afar (low frequencies).", Required = true };
        var near = new Option<int>("--near") { Description = "Class seen up close (high frequencies).", Required = true };
        var sigma = new Option<double?>("--sigma") { Description = "Gaussian σ in pixels (default: the seed's σ = 2 at 64 px, scaled to the image size)." };
        var kernel = new Option<int?>("--kernel") { Description = "Gaussian kernel size, odd (default ≈ 8σ + 1)." };
        var n = new Option<int>("--n") { Description = "Number of hybrids.", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "DDPM steps (strided).", DefaultValueFactory = _ => 100 };
        var cmd = new Command("hybrid", "Hybrid images (factorised diffusion): --near up close, --far from afar; OUT/grid.png at full size, blurred and downscaled, OUT/judge.json.");
        foreach (var o in new Option[] { far, near, sigma, kernel, n, steps }) cmd.Options.Add(o);
        model.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            int count = parse.GetValue(n);
            if (count < 1) throw new DiffusionLabException($"--n must be positive, got {count}");
            int cFar = parse.GetValue(far), cNear = parse.GetValue(near);
            m.CheckLabels([cFar, cNear]);
            var scaled = GaussianBlur.ScaledTo(m.Config.ImageSize);
            double s = parse.GetValue(sigma) ?? scaled.Sigma;
            if (!(s > 0)) throw new DiffusionLabException($"--sigma must be positive (a blur's standard deviation in pixels), got {s}");
            var blur = new GaussianBlur(parse.GetValue(kernel) ?? GaussianBlur.DefaultKernelSize(s), s);
            double gamma = parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            model.PrepareOut(parse, outDir, "hybrid", "images", "grid.png", "judge.json");
            model.CheckFits(parse, m, outDir, count, 4, 3); // two classes, each a guided pair; images, blurred, from afar
            var clock = Stopwatch.StartNew();
            using var images = m.Sample(count, new ImageSampleOptions
            {
                Sampler = "ddpm", Steps = parse.GetValue(steps), BatchSize = parse.GetValue(model.Batch), Seed = seed, Precision = model.Compute,
                Conditioning = (start, k) => new HybridImage(m.LabelTensor(Enumerable.Repeat(cFar, k).ToArray()), m.LabelTensor(Enumerable.Repeat(cNear, k).ToArray()), blur, gamma),
            }).cpu();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{count} hybrids ({cNear} near, {cFar} far), Gaussian σ = {blur.Sigma:G3} px, kernel {blur.KernelSize}, γ = {gamma}, {clock.Elapsed.TotalSeconds:F1} s"));
            using var blurred = blur.LowPass(images);
            // "from afar": a quarter-size image, shown back at full size so the grid stays aligned
            int small = Math.Max(4, m.Config.ImageSize / 4);
            using var afar = nn.functional.interpolate(nn.functional.interpolate(images, [small, small], mode: InterpolationMode.Area), [m.Config.ImageSize, m.Config.ImageSize], mode: InterpolationMode.Nearest);
            string[] names = [$"full size ({m.Config.ClassNames[cNear]})", $"blurred ({m.Config.ClassNames[cFar]})", $"{small} px ({m.Config.ClassNames[cFar]})"];
            int show = Math.Min(16, count);
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), [images[..show], blurred[..show], afar[..show]], names);
            var written = ImageCommands.SaveImages(images, Path.Combine(outDir, "images"), null);
            written.Add(Path.Combine(outDir, "grid.png"));
            using var judge = model.OpenJudge(parse, m, output);
            if (judge is not null) written.Add(Judge(judge, [(names[0], images, cNear), (names[1], blurred, cFar)], Path.Combine(outDir, "judge.json"), output));
            WriteManifest(outDir, "hybrid", written);
            output.WriteLine($"wrote {outDir}/grid.png and {outDir}/images/");
            return 0;
        });
        return cmd;
    }

    /// <summary>Writes OUT/manifest.json: every file the verb wrote (paths under <paramref name="outDir"/>), the PNGs of
    /// single images as its images (what the evaluators read).</summary>
    private static void WriteManifest(string outDir, string verb, IEnumerable<string> written)
    {
        var files = written.Select(f => Path.GetRelativePath(outDir, f)).ToList();
        new OutputManifest(verb, files, files.Where(f => Path.GetDirectoryName(f) is { Length: > 0 } && f.EndsWith(".png", StringComparison.Ordinal)).ToList()).Write(outDir);
    }

    /// <summary>How often the judge reads each set of images as its target class; printed and written as JSON.</summary>
    private static string Judge(Classifier judge, IReadOnlyList<(string Name, Tensor Images, int Target)> sets, string path, TextWriter output)
    {
        var result = new List<Dictionary<string, object>>();
        foreach (var (name, images, target) in sets)
        {
            using var predicted = judge.Predict(images);
            var p = predicted.data<long>().ToArray();
            double rate = p.Count(v => v == target) / (double)p.Length;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"judge: {name} read as {target} in {p.Count(v => v == target)}/{p.Length} ({rate:P0})"));
            result.Add(new() { ["view"] = name, ["target"] = target, ["rate"] = rate, ["n"] = p.Length, ["predicted"] = p });
        }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
