using DiffusionLab.Editing;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab sdedit</c>.</summary>
public static class SdEditCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/sdedit").Sharded();
        var model = new EditVerbs.ModelOptions();
        var input = new EditVerbs.InputOptions();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "A text model (train --text): the prompt to edit towards, in place of --class (text-conditional image-to-image)." };
        var cls = new Option<string?>("--class", "-c") { Description = "Class to edit towards (one, one per image, or 'data'); default: unconditional." };
        var steps = new Option<int>("--steps") { Description = "Strided denoising steps K: the start levels are 0 (pure noise) … K (the input).", DefaultValueFactory = _ => 30 };
        var starts = new Option<string?>("--i-start") { Description = "Start levels, comma-separated (default: the seed's 1,3,5,7,10,20)." };
        var strength = new Option<string?>("--strength") { Description = "Instead of --i-start: strengths in [0, 1] (1 = pure noise, 0 = the input), comma-separated." };
        var cmd = new Command("sdedit", "Image-to-image (SDEdit): noise inputs to each start level and denoise; OUT/strip.png has one row per input, one column per level.");
        foreach (var o in new Option[] { cls, prompt, steps, starts, strength }) cmd.Options.Add(o);
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
            using var inputs = EditVerbs.LoadEditInputs(parse, input, model, common, cls, prompt, m, outDir, output);
            var (all, allLabels, allPrompts, from, to, images, labels, _, gamma) = inputs;
            model.PrepareOut(parse, outDir, "sdedit", [.. levels.Select(l => $"i_start-{l}"), "strip.png"]);
            if (from == to)
            {
                EditVerbs.WriteManifest(outDir, "sdedit", []);
                return 0;
            }
            model.CheckFits(parse, m, outDir, (int)images.shape[0], gamma is 0 or 1 ? 1 : 2, 1 + levels.Length);
            var written = new List<string>();
            var columns = new List<Tensor>();
            var clock = Stopwatch.StartNew();
            foreach (var level in levels)
            {
                var (edited, _) = m.Edit(all, allLabels, gamma, parse.GetValue(model.Batch), seed, (dm, x, noise) => SdEdit.Run(dm, x, level, k, noise, clipX0: m.Config.DefaultClipX0), model.Compute, common.ShardOf(parse), allPrompts);
                written.AddRange(SampleSheets.SaveImages(edited, Path.Combine(outDir, $"i_start-{level}"), labels, from));
                columns.Add(edited);
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{images.shape[0]} images × {levels.Length} start levels ({string.Join(", ", levels)} of {k}), {clock.Elapsed.TotalSeconds:F1} s{(labels is null ? "" : $", γ = {gamma}")}"));
            // one row per input: the input, then its edit at each level
            var rows = Enumerable.Range(0, (int)Math.Min(16, images.shape[0]))
                .Select(i => torch.stack(columns.Select(c => c[i]).Prepend(images[i]))).ToList();
            ImageGrid.SaveRows(Path.Combine(outDir, "strip.png"), rows, null, ["input", .. levels.Select(l => $"i={l}")]);
            written.Add(Path.Combine(outDir, "strip.png"));
            EditVerbs.WriteManifest(outDir, "sdedit", written);
            foreach (var c in columns) c.Dispose();
            output.WriteLine($"wrote {outDir}/strip.png and {outDir}/i_start-*/");
            return 0;
        });
        return cmd;
    }
}
