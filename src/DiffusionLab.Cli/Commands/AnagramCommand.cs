
namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab anagram</c>.</summary>
public static class AnagramCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/anagram").Sharded();
        var model = new EditVerbs.ModelOptions();
        var cls = new Option<string>("--class", "-c") { Description = "Class the image shows as is: an index, a name or an unambiguous prefix (animals).", Required = true };
        var viewCls = new Option<string>("--view-class") { Description = "Class it shows through the view (index, name or prefix).", Required = true };
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
            int c1 = ClassSelector.One(parse.GetValue(cls)!, m.Config.ClassNames, "class");
            int c2 = ClassSelector.One(parse.GetValue(viewCls)!, m.Config.ClassNames, "viewClass");
            m.CheckLabels([c1, c2]);
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
                Conditioning = (start, k) => new VisualAnagram(m.LabelTensor(Enumerable.Repeat(c1, k).ToArray()), m.LabelTensor(Enumerable.Repeat(c2, k).ToArray()), v, gamma),
            }).cpu();
            using var viewed = v.Apply(images);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{to - from} anagrams ({c1} as is, {c2} {v.Description}), γ = {gamma}, {clock.Elapsed.TotalSeconds:F1} s"));
            string[] names = [$"as is ({m.Config.ClassNames[c1]})", $"{v.Description} ({m.Config.ClassNames[c2]})"];
            ImageGrid.SaveRows(Path.Combine(outDir, "grid.png"), [images[..Math.Min(16, to - from)], viewed[..Math.Min(16, to - from)]], names);
            var written = SampleSheets.SaveImages(images, Path.Combine(outDir, "images"), null, from);
            written.Add(Path.Combine(outDir, "grid.png"));
            using var judge = model.OpenJudge(parse, m, output);
            if (judge is not null) written.Add(EditVerbs.JudgeAndWrite(judge, [(names[0], images, c1), (names[1], viewed, c2)], Path.Combine(outDir, "judge.json"), output));
            EditVerbs.WriteManifest(outDir, "anagram", written);
            output.WriteLine($"wrote {outDir}/grid.png and {outDir}/images/");
            return 0;
        });
        return cmd;
    }
}
