using DiffusionLab.Conditioning;
using DiffusionLab.Editing;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab inpaint</c>.</summary>
public static class InpaintCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/inpaint").Sharded();
        var model = new EditVerbs.ModelOptions();
        var input = new EditVerbs.InputOptions();
        var mask = new Option<string>("--mask") { Description = "centre[:FRACTION], rect:X,Y,W,H, strokes[:N], top, bottom, left, right, or a PNG (white = fill).", DefaultValueFactory = _ => "centre" };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "A text model (train --text): the prompt to edit towards, in place of --class (text-conditional image-to-image)." };
        var cls = new Option<string?>("--class", "-c") { Description = "Class to fill in with (one, one per image, or 'data' for the inputs' labels); default: unconditional." };
        var steps = new Option<int>("--steps") { Description = "Denoising steps.", DefaultValueFactory = _ => 50 };
        var jump = new Option<int>("--jump") { Description = "RePaint jump length j.", DefaultValueFactory = _ => 5 };
        var resample = new Option<int>("--resample") { Description = "RePaint resample count r (1 = none).", DefaultValueFactory = _ => 1 };
        var mcg = new Option<double>("--mcg") { Description = "MCG gradient step α (0 = plain replacement).", DefaultValueFactory = _ => InpaintingConstraint.DefaultMcgScale };
        var compare = new Option<bool>("--compare") { Description = "Run plain replacement and MCG (α = --mcg, default " + InpaintingConstraint.ComparisonMcgScale.ToString(CultureInfo.InvariantCulture) + ") on the same masks and noise, side by side." };
        var cmd = new Command("inpaint", "Fill a masked region (RePaint replacement, optional resampling and MCG): OUT/grid.png (original, masked, result) and OUT/images/ (with --compare, MCG in OUT/images-mcg/).");
        foreach (var o in new Option[] { mask, cls, prompt, steps, jump, resample, mcg, compare }) cmd.Options.Add(o);
        model.AddTo(cmd);
        input.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            using var inputs = EditVerbs.LoadEditInputs(parse, input, model, common, cls, prompt, m, outDir, output);
            var (all, allLabels, allPrompts, from, to, images, labels, dataLabels, gamma) = inputs;
            using var holes = Masks.Parse(parse.GetValue(mask)!, m.Config.ImageSize, seed);
            var options = new InpaintOptions { Steps = parse.GetValue(steps), JumpLength = parse.GetValue(jump), Resamples = parse.GetValue(resample), McgScale = parse.GetValue(mcg), ClipX0 = m.Config.DefaultClipX0 };
            var runs = new List<(string Name, InpaintOptions Options)>();
            if (parse.GetValue(compare))
            {
                runs.Add(("replacement", options with { McgScale = InpaintingConstraint.DefaultMcgScale }));
                runs.Add(($"MCG α={(options.McgScale > 0 ? options.McgScale : InpaintingConstraint.ComparisonMcgScale).ToString(CultureInfo.InvariantCulture)}", options with { McgScale = options.McgScale > 0 ? options.McgScale : InpaintingConstraint.ComparisonMcgScale }));
            }
            else runs.Add((options.McgScale > 0 ? "MCG" : "RePaint", options));
            model.PrepareOut(parse, outDir, "inpaint", "images", "images-mcg", "images-replacement", "grid.png");
            if (from == to)
            {
                EditVerbs.WriteManifest(outDir, "inpaint", []);
                return 0;
            }
            model.CheckFits(parse, m, outDir, (int)images.shape[0], gamma is 0 or 1 ? 1 : 2, 2 + runs.Count, gradients: runs.Any(r => r.Options.McgScale > 0));
            var rows = new List<Tensor> { images, images * (1 - holes) };
            var names = new List<string> { "original", "masked" };
            Tensor? first = null;
            foreach (var (name, o) in runs)
            {
                var clock = Stopwatch.StartNew();
                var (result, _) = m.Edit(all, allLabels, gamma, parse.GetValue(model.Batch), seed, (dm, x, noise) => Inpainting.Run(dm, x, holes, o, noise), model.Compute, common.ShardOf(parse), allPrompts);
                double err = (result - images).mul(1 - holes).abs().max().item<float>();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {images.shape[0]} images, {Inpainting.NetworkEvaluations(m.Config.DiffusionSteps, o)} network evaluations each{(labels is null ? "" : $", γ = {gamma}")}, {clock.Elapsed.TotalSeconds:F1} s; largest change outside the hole: {err:G3}"));
                rows.Add(result);
                names.Add(name);
                first ??= result;
            }
            var written = SampleSheets.SaveImages(first!, Path.Combine(outDir, "images"), labels ?? dataLabels, from); // named by the true class when known, for 'eval accuracy'
            for (int r = 1; r < runs.Count; r++) written.AddRange(SampleSheets.SaveImages(rows[2 + r], Path.Combine(outDir, $"images-{(runs[r].Options.McgScale > 0 ? "mcg" : "replacement")}"), labels ?? dataLabels, from));
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), rows.Select(r => r[..Math.Min(16, (int)r.shape[0])]).ToList(), names);
            written.Add(Path.Combine(outDir, "grid.png"));
            EditVerbs.WriteManifest(outDir, "inpaint", written);
            foreach (var r in rows.Skip(1)) r.Dispose();
            output.WriteLine($"wrote {outDir}/grid.png and {images.shape[0]} PNGs to {outDir}/images");
            return 0;
        });
        return cmd;
    }
}
