
namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab anagram</c>.</summary>
public static class AnagramCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/anagram").Sharded();
        var model = new EditVerbs.ModelOptions();
        var cls = new Option<string?>("--class", "-c") { Description = "Class the image shows as is: an index, a name or an unambiguous prefix (animals)." };
        var viewCls = new Option<string?>("--view-class") { Description = "Class it shows through the view (index, name or prefix)." };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "A text model (train --text): what the image shows as is, in place of --class." };
        var viewPrompt = new Option<string?>("--view-prompt") { Description = "A text model: what it shows through the view, in place of --view-class." };
        var view = new Option<string>("--view") { Description = $"The view: {string.Join(", ", ImageView.All.Select(v => $"{v.Name} ({v.Description})"))}.", DefaultValueFactory = _ => "flip" };
        var n = new Option<int>("--n") { Description = "Number of anagrams.", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "DDPM steps (strided).", DefaultValueFactory = _ => 100 };
        var cmd = new Command("anagram", "Visual anagrams: images that read as --class as is and as --view-class through --view; OUT/grid.png shows both, OUT/judge.json how the classifier reads them.");
        foreach (var o in new Option[] { cls, viewCls, prompt, viewPrompt, view, n, steps }) cmd.Options.Add(o);
        model.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var m = model.Open(parse, device, output);
            var v = ImageView.Parse(parse.GetValue(view)!);
            int count = parse.GetValue(n);
            if (count < 1) throw new DiffusionLabException($"--n must be positive, got {count}");
            var t1 = EditVerbs.TargetOf(parse, cls, prompt, m, "class");
            var t2 = EditVerbs.TargetOf(parse, viewCls, viewPrompt, m, "viewClass");
            double gamma = parse.GetValue(model.Scale) ?? ClassifierFreeGuidance.DefaultScale;
            model.PrepareOut(parse, outDir, "anagram", "images", "grid.png", "judge.json");
            model.CheckFits(parse, m, outDir, count, 4, 2); // two views, each a guided pair
            var shard = common.ShardOf(parse);
            var (from, to) = EditVerbs.SampledShard(shard, count, parse.GetValue(model.Batch), outDir, "anagram", output);
            if (from == to) return 0;
            var clock = Stopwatch.StartNew();
            using var images = m.Sample(count, new ImageSampleOptions
            {
                Sampler = "ddpm", Steps = parse.GetValue(steps), BatchSize = parse.GetValue(model.Batch), Seed = seed, Precision = model.Compute, Shard = shard,
                Conditioning = (start, k) => new VisualAnagram(t1.Condition(m, k), t2.Condition(m, k), v, gamma),
            }).cpu();
            using var viewed = v.Apply(images);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{to - from} anagrams ({t1.Name} as is, {t2.Name} {v.Description}), γ = {gamma}, {clock.Elapsed.TotalSeconds:F1} s"));
            string[] names = [$"as is ({t1.Name})", $"{v.Description} ({t2.Name})"];
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), [images[..Math.Min(16, to - from)], viewed[..Math.Min(16, to - from)]], names);
            var written = SampleSheets.SaveImages(images, Path.Combine(outDir, "images"), null, from);
            written.Add(Path.Combine(outDir, "grid.png"));
            using var judge = model.OpenJudge(parse, m, output);
            if (judge is not null && t1.Class is int c1 && t2.Class is int c2) // the judge reads classes, not prompts
                written.Add(EditVerbs.JudgeAndWrite(judge, [(names[0], images, c1), (names[1], viewed, c2)], Path.Combine(outDir, "judge.json"), output));
            EditVerbs.WriteManifest(outDir, "anagram", written);
            output.WriteLine($"wrote {outDir}/grid.png and {outDir}/images/");
            return 0;
        });
        return cmd;
    }
}
