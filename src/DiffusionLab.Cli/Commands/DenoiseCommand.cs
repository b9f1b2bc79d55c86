using System.Text.Json;
using DiffusionLab.Editing;
using DiffusionLab.Models;

namespace DiffusionLab.Cli.Commands;

/// <summary>
/// <c>difflab denoise</c>: with a diffusion model, CS180 project 5 part A §1.1–1.4 — noised pictures denoised by blur, in
/// one step and iteratively, side by side and scored; with a single-step denoiser (or none), part B §1.2's σ sweep.
/// </summary>
public static class DenoiseCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/denoise");
        var run = new Option<string?>("--run") { Description = "A run folder: a diffusion model (the part A comparison) or a cs180-single run (the part B σ sweep); without --run or --model only the noisy inputs of the σ sweep are drawn." };
        var model = new Option<string?>("--model") { Description = "A model folder (models/emoji32-class…): the part A comparison." };
        var image = new Option<string?>("--image", "-i") { Description = "With a diffusion model: picture file(s) to noise and denoise, comma-separated (resized and converted to the model's format)." };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Images to noise when no --image is given (default: the model's dataset, else mnist).", DefaultValueFactory = _ => "" };
        var split = new Option<string>("--split") { Description = "train or heldout (the out-of-distribution test uses held-out digits).", DefaultValueFactory = _ => "heldout" };
        var sigmas = new Option<string>("--sigmas") { Description = "Single-step denoiser: noise levels σ of z = x + σε.", DefaultValueFactory = _ => "0,0.2,0.4,0.6,0.8,1.0" };
        var n = new Option<int>("--n") { Description = "Images from the dataset (spread over it).", DefaultValueFactory = _ => 8 };
        var levels = new Option<string?>("--t") { Description = "Diffusion model: noise levels t in its steps, comma-separated (default: T/4, T/2, 3T/4 — 250, 500, 750 for T = 1000, as in the assignment)." };
        var steps = new Option<int?>("--steps") { Description = "Diffusion model: strided steps K of iterative denoising (default: 33, the assignment's stride of 30 at T = 1000, or T if smaller)." };
        var iStart = new Option<int?>("--i-start") { Description = "Diffusion model: also compare at the level of strided step i_start (0: the noisiest … K − 1), with a strip of its iterative steps (default 10, as in the assignment)." };
        var cls = new Option<string?>("--class", "-c") { Description = "Class of a class-conditional model (name, prefix or index); default: its unconditional pass." };
        var scale = new Option<double?>("--guidance-scale") { Description = $"γ with --class (default {ClassifierFreeGuidance.DefaultScale})." };
        var json = new Option<bool>("--json") { Description = "Diffusion model: print PSNR and SSIM of every method at every level as JSON." };
        var cmd = new Command("denoise", "Denoising compared (CS180 project 5 part A §1.1–1.4): a diffusion model's one-step and iterative denoising against a Gaussian blur at several noise levels, scored by PSNR and SSIM; with a single-step denoiser, part B §1.2's σ sweep.");
        foreach (var o in new Option[] { run, model, image, dataset, split, sigmas, n, levels, steps, iStart, cls, scale, json }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            if (parse.GetValue(n) < 1) throw new DiffusionLabException("--n must be positive");
            using var m = parse.GetValue(run) is null && parse.GetValue(model) is null ? null : ImageVerbs.OpenModel(parse.GetValue(run), parse.GetValue(model), device);
            if (m is not null && !m.Config.IsSingleStep) return Compare(parse, m, outDir, seed, output);
            if (parse.GetValue(image) is not null) throw new DiffusionLabException("--image needs a diffusion model (--run or --model); the σ sweep noises dataset images");
            var levelsOf = CommonOptions.ParseDoubles(parse.GetValue(sigmas)!, "--sigmas");
            foreach (var v in levelsOf)
                if (!(v >= 0)) throw new DiffusionLabException($"--sigmas must be non-negative numbers, got '{v.ToString(CultureInfo.InvariantCulture)}'");
            var data = LoadData(parse.GetValue(dataset)!, parse.GetValue(split)!, m);
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var x = Spread(data, parse.GetValue(n), device);
            var g = TensorOps.SeededGenerator(seed);
            var eps = torch.randn(x.shape, generator: g).to(device);
            var rows = new List<Tensor>();
            var names = new List<string>();
            foreach (var s in levelsOf)
            {
                var z = x + s * eps;
                rows.Add(z);
                names.Add(string.Create(CultureInfo.InvariantCulture, $"σ = {s:0.##}"));
                if (m is not null)
                {
                    rows.Add(m.Network.call(z, torch.zeros(x.shape[0], device: device)));
                    names.Add("denoised");
                }
            }
            var png = Path.Combine(outDir, m is null ? "noisy.png" : "denoised.png");
            ImageGrid.SaveRows(png, rows, names);
            output.WriteLine($"wrote {png}");
            return 0;

            int Compare(ParseResult parse, ImageRun m, string outDir, long seed, TextWriter output)
            {
                int t = m.Config.DiffusionSteps;
                int k = parse.GetValue(steps) ?? Math.Min(t, 33); // the assignment's 33 strided steps (stride 30 at T = 1000)
                var strided = Schedules.StepGrid.Uniform(t, k); // checks --steps
                int start = parse.GetValue(iStart) ?? Math.Min(10, strided.Length - 1);
                if (start < 0 || start >= strided.Length)
                    throw new DiffusionLabException($"--i-start {start} is beyond the strided steps: it runs from 0 (t = {strided[0]}) to {strided.Length - 1} (t = {strided[^1]}) with --steps {k}");
                var ts = parse.GetValue(levels) is string spec ? CommonOptions.ParseInts(spec, "--t") : [t / 4, t / 2, 3 * t / 4];
                foreach (var level in ts)
                    if (level < 1 || level > t) throw new DiffusionLabException($"--t {level} is outside the model's steps 1..{t}");
                int[] all = [.. ts.Append(strided[start]).Distinct().Order()];
                using var images = parse.GetValue(image) is string files
                    ? EditVerbs.LoadImageFiles(files, m, "no", output)
                    : Spread(LoadData(parse.GetValue(dataset)!, parse.GetValue(split)!, m), parse.GetValue(n), CPU);
                int[]? labels = parse.GetValue(cls) is string c ? Enumerable.Repeat(ClassSelector.One(c, m.Config.ClassNames, "class"), (int)images.shape[0]).ToArray() : null;
                double gamma = labels is null ? 1 : parse.GetValue(scale) ?? ClassifierFreeGuidance.DefaultScale;
                var blur = GaussianBlur.ScaledTo(m.Config.ImageSize, DenoisingComparison.BlurSigmaAt64);
                var strip = new List<(int Step, Tensor X)>();
                int stripLevel = Array.IndexOf(all, strided[start]);
                var clock = Stopwatch.StartNew();
                IReadOnlyList<DenoisingComparison.Level> results = [];
                // one batch, its own generator: the comparison's noise is drawn once for all images, as the course figure does
                using var unchanged = m.Edit(images, labels, gamma, (int)images.shape[0], seed, (dm, x, _) =>
                {
                    var g = TensorOps.SeededGenerator(seed);
                    var grid = DenoisingComparison.IterativeGrid(strided[start], strided);
                    results = DenoisingComparison.Run(dm, x, all, strided, blur, g, m.Config.DefaultClipX0,
                        (level, i, xi) => { if (level == stripLevel && i % 5 == 4 && i + 1 < grid.Length) strip.Add((grid[i + 1], xi.clamp(-1, 1).cpu().DetachFromDisposeScope())); });
                    foreach (var r in results) // kept past the batch's dispose scope; disposed below
                        foreach (var kept in new[] { r.Noisy, r.Blurred, r.OneStep, r.Iterative }) kept.DetachFromDisposeScope();
                    return x.clone();
                }).Images;
                try
                {
                    // one row per level: the original, x_t, the blur, one step, iterative — the assignment's four-way figure at each t
                    var rows = new List<Tensor>();
                    var names = new List<string>();
                    for (int i = 0; i < (int)Math.Min(4, images.shape[0]); i++)
                        foreach (var r in results)
                        {
                            rows.Add(torch.stack([images[i], r.Noisy[i].cpu(), r.Blurred[i].cpu(), r.OneStep[i].cpu(), r.Iterative[i].cpu()]));
                            names.Add($"t = {r.Step}");
                        }
                    var comparison = Path.Combine(outDir, "comparison.png");
                    ImageGrid.SaveRows(comparison, rows, names, ["original", "x_t", "blur", "1 step", "iterative"]);
                    var stripPath = Path.Combine(outDir, "iterative.png");
                    var first = results[stripLevel];
                    var stripRow = new List<Tensor> { first.Noisy[0].cpu() };
                    stripRow.AddRange(strip.Select(s => s.X[0]));
                    stripRow.Add(first.Iterative[0].cpu());
                    ImageGrid.SaveRows(stripPath, [torch.stack(stripRow)], null,
                        [$"t = {strided[start]}", .. strip.Select(s => $"t = {s.Step}"), "x_0"]);
                    var scores = results.Select(r => new
                    {
                        t = r.Step,
                        scores = r.Scores(images.to(r.Noisy.device)).ToDictionary(kv => kv.Key, kv => new { psnr = Finite(kv.Value.Psnr), ssim = kv.Value.Ssim }),
                    }).ToList();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{images.shape[0]} images at t = {string.Join(", ", all)} (i_start {start} of {k} strided steps is t = {strided[start]}), {clock.Elapsed.TotalSeconds:F1} s{(labels is null ? "" : $", γ = {gamma}")}; PSNR (dB) / SSIM against the original:"));
                    foreach (var s in scores)
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  t = {s.t,4}: {string.Join(" · ", s.scores.Select(kv => $"{kv.Key} {kv.Value.psnr:F2} / {kv.Value.ssim:F3}"))}"));
                    output.WriteLine($"wrote {comparison} and {stripPath}");
                    if (parse.GetValue(json))
                        output.WriteLine(JsonSerializer.Serialize(new { t = all, i_start = start, strided_steps = k, blur_sigma = blur.Sigma, blur_kernel = blur.KernelSize, levels = scores }));
                    return 0;
                }
                finally
                {
                    foreach (var r in results) r.Dispose();
                    foreach (var s in strip) s.X.Dispose();
                }
            }
        });
        return cmd;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>The <paramref name="split"/> of <paramref name="dataset"/> (empty: the model's own, else mnist), in the model's format.</summary>
    private static ImageDataset LoadData(string dataset, string split, ImageRun? m)
    {
        var spec = dataset is { Length: > 0 } ? dataset : m?.Config.Dataset ?? "mnist";
        var data = ImageDatasets.Load(spec, split, m?.Config.ImageSize ?? 64, m?.Config.Channels ?? 3);
        m?.CheckDataset(data);
        return data;
    }

    /// <summary><paramref name="n"/> images spread evenly over <paramref name="data"/> (so over its classes), as a batch.</summary>
    private static Tensor Spread(ImageDataset data, int n, Device device)
    {
        int count = Math.Min(n, data.Count);
        var (x, labels) = data.Batch(Enumerable.Range(0, count).Select(i => (int)((long)i * data.Count / count)).ToArray(), device);
        labels.Dispose();
        return x;
    }
}
