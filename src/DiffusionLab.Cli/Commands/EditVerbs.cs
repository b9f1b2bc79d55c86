using DiffusionLab.Data;

namespace DiffusionLab.Cli.Commands;

/// <summary>What the editing verbs share.</summary>
internal static class EditVerbs
{
    /// <summary>The options every editing verb shares: the model, the class condition and the judge.</summary>
    internal sealed class ModelOptions
    {
        public Option<string?> Run { get; } = new("--run") { Description = "Run folder written by 'difflab train'." };
        public Option<string?> Model { get; } = new("--model") { Description = "Model folder; default: the shipped models/mnist-cs180-class." };
        public Option<double?> Scale { get; } = new("--guidance-scale") { Description = $"γ of classifier-free guidance (default {ClassifierFreeGuidance.DefaultScale} with a class, else 1)." };
        public Option<string?> Judge { get; } = new("--judge") { Description = "Classifier that reads the results (default: the shipped classifier of the model's data set — models/mnist-classifier, models/emoji-classifier — when it fits the model's images)." };
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
            return ImageVerbs.OpenModel(parse.GetValue(Run), parse.GetValue(Model), device);
        }

        /// <summary>The judge classifier, or null when none fits the model's images.</summary>
        public Classifier? OpenJudge(ParseResult parse, ImageRun m, TextWriter output)
        {
            var explicitJudge = parse.GetValue(Judge);
            if (m.PromptEncoder is not null)
            {
                // a judge reads categories, and a prompt names no category it could check the view against
                if (explicitJudge is not null) throw new DiffusionLabException("--judge reads a class model's views; a text model's views are prompts, which name no class to check");
                output.WriteLine("(no judge: the views are prompts, which name no class for a classifier to check)");
                return null;
            }
            string? dir = explicitJudge;
            if (dir is null)
            {
                // The shipped classifier of the model's own data set (an emoji model is read by the emoji classifier);
                // for other data (IDX files, folders) the MNIST one, used below only if it fits the images.
                var dataset = m.Config.Dataset == "emoji" ? "emoji" : "mnist";
                try { dir = EvalVerbs.DomainClassifier(dataset, "--judge"); }
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
    internal sealed class InputOptions
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
            if (image is not null) return (LoadImageFiles(image, m, parse.GetValue(Invert)!, output), null);
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

    /// <summary>
    /// The inputs part <paramref name="shard"/> edits (<see cref="Shard.Range"/> in batches of <paramref name="batchSize"/>):
    /// their range, images and labels; one line says which part this is.
    /// </summary>
    internal static (int From, int To, Tensor Images, int[]? Labels, int[]? DataLabels) ShardOf(
        Shard shard, int batchSize, Tensor all, int[]? labels, int[]? dataLabels, string outDir, TextWriter output)
    {
        int n = (int)all.shape[0];
        var (from, to) = shard.Range(n, batchSize);
        ImageVerbs.ReportShard(shard, from, to, n, batchSize, "inputs", outDir, output);
        return (from, to, all[from..to].clone(), labels?[from..to], dataLabels?[from..to]);
    }

    /// <summary>
    /// The images [From, To) of <paramref name="count"/> that part <paramref name="shard"/> of a generating verb (anagram,
    /// hybrid) draws in batches of <paramref name="batchSize"/>; a part with none says so and writes an empty manifest.
    /// </summary>
    internal static (int From, int To) SampledShard(Shard shard, int count, int batchSize, string outDir, string verb, TextWriter output)
    {
        if (batchSize < 1) throw new DiffusionLabException($"--batch-size must be positive, got {batchSize}");
        var (from, to) = shard.Range(count, batchSize);
        ImageVerbs.ReportShard(shard, from, to, count, batchSize, "images", outDir, output);
        if (from == to) WriteManifest(outDir, verb, []);
        return (from, to);
    }

    /// <summary>
    /// Picture files (comma-separated) as one batch [N, C, H, W] in the model's size and channels; <paramref name="invert"/>
    /// (auto, yes or no) turns a grey picture to white on black — auto where it is mostly bright, like a drawing on paper.
    /// </summary>
    internal static Tensor LoadImageFiles(string files, ImageRun m, string invert, TextWriter output)
    {
        if (invert is not ("auto" or "yes" or "no")) throw new DiffusionLabException($"--invert must be auto, yes or no, got '{invert}'");
        int size = m.Config.ImageSize, channels = m.Config.Channels;
        var list = new List<Tensor>();
        foreach (var path in files.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
        return all;
    }

    /// <summary>--class: one class for all, 'data' for the dataset's own labels, or none (unconditional).</summary>
    /// <summary>What one part of an anagram or hybrid is drawn as: a class of a class model, or a prompt of a text model.</summary>
    internal sealed record Target(int? Class, string? Prompt, string Name)
    {
        /// <summary>The condition for <paramref name="k"/> samples: class labels [k], or prompt tokens [k, L].</summary>
        public Tensor Condition(ImageRun m, int k) => Class is int c
            ? m.LabelTensor(Enumerable.Repeat(c, k).ToArray())
            : m.PromptCondition(Enumerable.Repeat(Prompt, k).ToArray(), 1).Labels;
    }

    /// <summary>
    /// The target an anagram's or hybrid's <paramref name="classOption"/> / <paramref name="promptOption"/> pair names
    /// (one of the two, as the model is a class or a text model).
    /// </summary>
    internal static Target TargetOf(ParseResult parse, Option<string?> classOption, Option<string?> promptOption, ImageRun m, string classParameter)
    {
        var cls = parse.GetValue(classOption);
        var prompt = parse.GetValue(promptOption);
        if ((cls is null) == (prompt is null))
            throw new DiffusionLabException($"give {classOption.Name} (a class model) or {promptOption.Name} (a text model), one of them");
        if (prompt is not null)
        {
            if (m.PromptEncoder is null) throw new DiffusionLabException($"{promptOption.Name} needs a text-conditioned model (train --text); this one takes {classOption.Name}");
            return new Target(null, prompt, $"'{prompt}'");
        }
        int c = ClassSelector.One(cls!, m.Config.ClassNames, classParameter);
        m.CheckLabels([c]);
        return new Target(c, null, m.Config.ClassNames[c]);
    }

    /// <summary>
    /// What an image-editing verb (sdedit, inpaint) works on: all its inputs with their class labels or prompts (what the
    /// edit is guided towards), this part's share of them (<paramref name="common"/>'s --shard), and the guidance scale —
    /// γ from --guidance-scale when a class or prompt guides the edit, else 1.
    /// </summary>
    internal sealed record EditInputs(Tensor All, int[]? AllLabels, string?[]? AllPrompts, int From, int To, Tensor Images, int[]? Labels, int[]? DataLabels, double Gamma) : IDisposable
    {
        public void Dispose()
        {
            Images.Dispose();
            All.Dispose();
        }
    }

    internal static EditInputs LoadEditInputs(ParseResult parse, InputOptions input, ModelOptions model, CommonOptions common, Option<string?> cls, Option<string?> prompt,
        ImageRun m, string outDir, TextWriter output)
    {
        var (all, allDataLabels) = input.Load(parse, m, output);
        int n = (int)all.shape[0];
        var allLabels = Labels(parse.GetValue(cls), n, allDataLabels, m);
        var allPrompts = Prompts(parse.GetValue(prompt), parse.GetValue(cls), n, m);
        var (from, to, images, labels, dataLabels) = ShardOf(common.ShardOf(parse), parse.GetValue(model.Batch), all, allLabels, allDataLabels, outDir, output);
        double gamma = labels is null && allPrompts is null ? 1 : parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
        return new EditInputs(all, allLabels, allPrompts, from, to, images, labels, dataLabels, gamma);
    }

    /// <summary>One copy of <paramref name="prompt"/> per input (null without one); a text model's --prompt takes the place of --class.</summary>
    internal static string?[]? Prompts(string? prompt, string? classSpec, int count, ImageRun m)
    {
        if (prompt is null) return null;
        if (classSpec is not null) throw new DiffusionLabException("give --prompt or --class, not both");
        if (m.PromptEncoder is null) throw new DiffusionLabException("--prompt needs a text-conditioned model (train --text); this one takes --class");
        return Enumerable.Repeat<string?>(prompt, count).ToArray();
    }

    internal static int[]? Labels(string? spec, int count, int[]? dataLabels, ImageRun m)
    {
        if (spec is null) return null;
        if (spec == "data")
            return dataLabels ?? throw new DiffusionLabException("--class data needs labelled inputs (--from a dataset split or -classC file names)");
        var cls = ClassSelector.Parse(spec, m.Config.ClassNames);
        if (cls.Length != 1 && cls.Length != count) throw new DiffusionLabException($"--class: give one class or one per image ({count}), got {cls.Length}");
        m.CheckLabels(cls);
        return Enumerable.Range(0, count).Select(i => cls[cls.Length == 1 ? 0 : i]).ToArray();
    }

    /// <summary>Writes OUT/manifest.json: every file the verb wrote (paths under <paramref name="outDir"/>), the PNGs of
    /// single images as its images (what the evaluators read).</summary>
    internal static void WriteManifest(string outDir, string verb, IEnumerable<string> written)
    {
        var files = written.Select(f => Path.GetRelativePath(outDir, f)).ToList();
        new OutputManifest(verb, files, files.Where(f => Path.GetDirectoryName(f) is { Length: > 0 } && f.EndsWith(".png", StringComparison.Ordinal)).ToList()).Write(outDir);
    }

    /// <summary>The judge's verdicts on each set, printed and written to <paramref name="path"/> as JSON; returns the path.</summary>
    internal static string JudgeAndWrite(Classifier judge, IReadOnlyList<(string Name, Tensor Images, int Target)> sets, string path, TextWriter output)
    {
        var verdicts = Judge.Read(judge, sets);
        foreach (var v in verdicts) output.WriteLine(v.ToString());
        Judge.WriteJson(path, verdicts);
        return path;
    }
}
