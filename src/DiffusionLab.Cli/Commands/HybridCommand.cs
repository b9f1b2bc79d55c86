
namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab hybrid</c>.</summary>
public static class HybridCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/hybrid").Sharded();
        var model = new EditVerbs.ModelOptions();
        var far = new Option<string?>("--far") { Description = "Class seen from afar (low frequencies): index, name or unambiguous prefix." };
        var near = new Option<string?>("--near") { Description = "Class seen up close (high frequencies): index, name or unambiguous prefix." };
        var farPrompt = new Option<string?>("--far-prompt") { Description = "A text model (train --text): what is seen from afar, in place of --far." };
        var nearPrompt = new Option<string?>("--near-prompt") { Description = "A text model: what is seen up close, in place of --near." };
        var sigma = new Option<double?>("--sigma") { Description = "Gaussian σ in pixels (default: the seed's σ = 2 at 64 px, scaled to the image size)." };
        var kernel = new Option<int?>("--kernel") { Description = "Gaussian kernel size, odd (default ≈ 8σ + 1)." };
        var n = new Option<int>("--n") { Description = "Number of hybrids.", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "DDPM steps (strided).", DefaultValueFactory = _ => 100 };
        var cmd = new Command("hybrid", "Hybrid images (factorised diffusion): --near up close, --far from afar; OUT/grid.png at full size, blurred and downscaled, OUT/judge.json.");
        foreach (var o in new Option[] { far, near, farPrompt, nearPrompt, sigma, kernel, n, steps }) cmd.Options.Add(o);
        model.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            int count = parse.GetValue(n);
            if (count < 1) throw new DiffusionLabException($"--n must be positive, got {count}");
            var tFar = EditVerbs.TargetOf(parse, far, farPrompt, m, "far");
            var tNear = EditVerbs.TargetOf(parse, near, nearPrompt, m, "near");
            var scaled = GaussianBlur.ScaledTo(m.Config.ImageSize);
            double s = parse.GetValue(sigma) ?? scaled.Sigma;
            if (!(s > 0)) throw new DiffusionLabException($"--sigma must be positive (a blur's standard deviation in pixels), got {s}");
            var blur = new GaussianBlur(parse.GetValue(kernel) ?? GaussianBlur.DefaultKernelSize(s), s);
            double gamma = parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            model.PrepareOut(parse, outDir, "hybrid", "images", "grid.png", "judge.json");
            model.CheckFits(parse, m, outDir, count, 4, 3); // two classes, each a guided pair; images, blurred, from afar
            var shard = common.ShardOf(parse);
            var (from, to) = EditVerbs.SampledShard(shard, count, parse.GetValue(model.Batch), outDir, "hybrid", output);
            if (from == to) return 0;
            var clock = Stopwatch.StartNew();
            using var images = m.Sample(count, new ImageSampleOptions
            {
                Sampler = "ddpm", Steps = parse.GetValue(steps), BatchSize = parse.GetValue(model.Batch), Seed = seed, Precision = model.Compute, Shard = shard,
                Conditioning = (start, k) => new HybridImage(tFar.Condition(m, k), tNear.Condition(m, k), blur, gamma),
            }).cpu();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{to - from} hybrids ({tNear.Name} near, {tFar.Name} far), Gaussian σ = {blur.Sigma:G3} px, kernel {blur.KernelSize}, γ = {gamma}, {clock.Elapsed.TotalSeconds:F1} s"));
            using var blurred = blur.LowPass(images);
            // "from afar": a quarter-size image, shown back at full size so the grid stays aligned
            int small = Math.Max(4, m.Config.ImageSize / 4);
            using var afar = nn.functional.interpolate(nn.functional.interpolate(images, [small, small], mode: InterpolationMode.Area), [m.Config.ImageSize, m.Config.ImageSize], mode: InterpolationMode.Nearest);
            string[] names = [$"full size ({tNear.Name})", $"blurred ({tFar.Name})", $"{small} px ({tFar.Name})"];
            int show = Math.Min(16, to - from);
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), [images[..show], blurred[..show], afar[..show]], names);
            var written = SampleSheets.SaveImages(images, Path.Combine(outDir, "images"), null, from);
            written.Add(Path.Combine(outDir, "grid.png"));
            using var judge = model.OpenJudge(parse, m, output);
            if (judge is not null && tNear.Class is int cNear && tFar.Class is int cFar) // the judge reads classes, not prompts
                written.Add(EditVerbs.JudgeAndWrite(judge, [(names[0], images, cNear), (names[1], blurred, cFar)], Path.Combine(outDir, "judge.json"), output));
            EditVerbs.WriteManifest(outDir, "hybrid", written);
            output.WriteLine($"wrote {outDir}/grid.png and {outDir}/images/");
            return 0;
        });
        return cmd;
    }
}
