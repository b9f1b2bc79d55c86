using System.Text.Json;
using DiffusionLab.Studies;

namespace DiffusionLab.Cli.Commands;

/// <summary>What the evaluation verbs share.</summary>
internal static class EvalVerbs
{
    /// <summary>The shipped domain classifier of a data set's images (MNIST's for folders, whose data set is unknown).</summary>
    internal static string DomainClassifier(string? dataset, string option) => dataset switch
    {
        "emoji" => CommonOptions.ShippedModel("emoji-classifier", option),
        null or "mnist" => CommonOptions.ShippedModel("mnist-classifier", option),
        _ => throw new DiffusionLabException($"no classifier is shipped for {dataset}: train one ('difflab classifier train --dataset {dataset}') and pass its folder to {option}, or use --features resnet18"),
    };

    internal const string FeaturesHelp = "Feature network of FID/KID/precision/recall: resnet18 (ImageNet ResNet-18), domain (the shipped classifier of the real images' data set: models/mnist-classifier, models/emoji-classifier; the default) or a classifier folder.";

    /// <summary>The feature network <paramref name="spec"/> names (see <see cref="FeaturesHelp"/>) for real images of <paramref name="dataset"/>.</summary>
    internal static IFeatureNetwork OpenFeatures(string? spec, string? dataset, Device? device = null) => spec switch
    {
        "resnet18" => new ResNet18Features(),
        null or "domain" => Classifier.Load(DomainClassifier(dataset, "--features"), device),
        _ => Classifier.Load(spec, device),
    };

    internal static Command Study(string kind, string description, TextWriter output)
    {
        var common = new CommonOptions($"out/study-{kind}");
        var run = new Option<string?>("--run") { Description = "Run folder." };
        var model = new Option<string?>("--model") { Description = "Model folder (default: the shipped models/mnist-cs180-class)." };
        var real = new Option<string>("--real") { Description = "Real images to compare with.", DefaultValueFactory = _ => "mnist:heldout" };
        var features = new Option<string?>("--features") { Description = FeaturesHelp };
        var judge = new Option<string?>("--classifier") { Description = "Classifier that reads the samples' classes (default: the shipped classifier of the real images' data set)." };
        var n = new Option<int>("--n") { Description = "Samples per setting (the DDIM/CFG assignment uses 500).", DefaultValueFactory = _ => 500 };
        var gammas = new Option<string>("--gammas") { Description = "guidance: the γ values.", DefaultValueFactory = _ => "0,1,2,3,5,7.5,10,15" };
        var sampler = new Option<string>("--sampler") { Description = $"guidance: the sampler ({string.Join(", ", Samplers.Discrete.DiscreteSamplers.Names)}).", DefaultValueFactory = _ => "ddim" };
        var samplers = new Option<string>("--samplers") { Description = "samplers: which to compare.", DefaultValueFactory = _ => string.Join(",", Samplers.Discrete.DiscreteSamplers.Names) };
        var steps = new Option<int>("--steps") { Description = "guidance: sampling steps.", DefaultValueFactory = _ => 50 };
        var stepList = new Option<string>("--steps-list") { Description = "samplers: network-evaluation budgets per image (Heun and DPM-Solver++(2S) get ⌈(k+1)/2⌉ steps, at most k evaluations).", DefaultValueFactory = _ => "5,10,20,50,100,300" };
        var gamma = new Option<double>("--guidance-scale") { Description = "samplers: γ.", DefaultValueFactory = _ => 5 };
        var cmd = new Command(kind, description);
        var resume = new Option<bool>("--resume") { Description = "Keep the rows of OUT/study.csv and compute only the missing settings (study.csv and charts are written after every setting)." };
        var precision = CommonOptions.Precision("the sampling network (samples differ slightly; the feature networks stay fp32)");
        foreach (var o in new Option[] { run, model, real, features, judge, n, gammas, sampler, samplers, steps, stepList, gamma, resume, precision }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            var compute = CommonOptions.ResolvePrecision(parse, precision, output);
            using var m = ImageVerbs.OpenModel(parse.GetValue(run), parse.GetValue(model), device);
            using var realSet = ImageSets.Load(parse.GetValue(real)!);
            using var c = Classifier.Load(parse.GetValue(judge) ?? DomainClassifier(realSet.Dataset, "--classifier"), device);
            // no --features: the judge's own features; --features domain is the data set's shipped classifier, as in eval
            var f = parse.GetValue(features) is string fs ? OpenFeatures(fs, realSet.Dataset, device) : c;
            using var ownFeatures = f == c ? null : f as IDisposable;
            output.WriteLine($"FID, KID, precision/recall on {f.Description}; accuracy read by the {c.Description}{(compute == "fp32" ? "" : $"; sampling in {compute} mixed precision")}");
            var settings = new List<GuidanceStudy.Setting>();
            if (kind == "guidance")
            {
                foreach (var g in CommonOptions.ParseDoubles(parse.GetValue(gammas)!, "--gammas"))
                    settings.Add(new($"gamma={g.ToString(CultureInfo.InvariantCulture)}", g, parse.GetValue(sampler)!, parse.GetValue(steps)));
                settings.Add(new("unconditional", 0, parse.GetValue(sampler)!, parse.GetValue(steps), Unconditional: true));
            }
            else
            {
                var names = Samplers.Discrete.DiscreteSamplers.ParseNames(parse.GetValue(samplers)!, "--samplers");
                foreach (var k in CommonOptions.ParseInts(parse.GetValue(stepList)!, "--steps-list"))
                    foreach (var name in names)
                        settings.Add(new($"{name}-{k}", parse.GetValue(gamma), name, Samplers.Discrete.DiscreteSamplers.StepsForBudget(name, k)));
            }
            // study.csv and the charts are rewritten after every setting, so an interrupted study keeps what it measured;
            // --resume computes only the settings study.csv does not hold yet
            var csvPath = Path.Combine(outDir, "study.csv");
            var rows = parse.GetValue(resume) && File.Exists(csvPath) ? GuidanceStudy.ReadCsv(csvPath) : [];
            var todo = settings.Where(s => rows.All(r => r.Setting != s.Name)).ToList();
            if (rows.Count > 0) output.WriteLine($"resuming: {rows.Count} settings from {csvPath}, {todo.Count} to go");
            void Save()
            {
                GuidanceStudy.WriteCsv(rows, csvPath);
                if (kind == "guidance") GuidanceStudy.WriteGuidanceCharts(rows, outDir, f.Description);
                else GuidanceStudy.WriteSamplerChart(rows, outDir, f.Description);
            }
            output.WriteLine($"setting | NFE | FID (floor) | KID | precision | recall | accuracy | read with p ≥ {Evaluator.ConfidenceThreshold} | s");
            GuidanceStudy.Run(m, f, c, realSet, todo, parse.GetValue(n), seed, precision: compute, onRow: r =>
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Setting} | {r.Nfe} | {r.Fid:F2} ({r.FidFloor:F2}) | {r.Kid:F4} ± {r.KidSe:F4} | {r.Precision:F3} | {r.Recall:F3} | {r.Accuracy:P1} | {r.Confident:P1} | {r.Seconds:F0}"));
                rows.Add(r);
                Save();
            });
            Save();
            output.WriteLine($"wrote {outDir}/study.csv and charts");
            return 0;
        });
        return cmd;
    }

    /// <summary>The images of <paramref name="spec"/> (at most <paramref name="limit"/>), with a progress line on <paramref name="progressOut"/>.</summary>
    private static ImageSet ReadSet(string spec, int? limit, TextWriter progressOut)
    {
        var reading = new ProgressReporter(progressOut, $"reading {spec}");
        try { return ImageSets.Load(spec, limit, (done, total) => reading.Report(done, total)); }
        finally { reading.Done(); }
    }

    /// <summary>The features of <paramref name="set"/> (cached for a data set's split), with a progress line.</summary>
    private static Tensor Embed(IFeatureNetwork network, ImageSet set, TextWriter progressOut, string what)
    {
        var scoring = new ProgressReporter(progressOut, what);
        try { return FeatureCache.Features(network, set, (done, total) => scoring.Report(done, total)); }
        finally { scoring.Done(); }
    }

    /// <summary>FID's fields of a result: the figure, both counts, and the floor with its sizes (JSON has no NaN: null when there is none).</summary>
    private static Dictionary<string, object?> FidFields(FidReport fid)
    {
        var result = new Dictionary<string, object?> { ["fid"] = fid.Fid, ["n_real"] = fid.NReal, ["n_fake"] = fid.NFake, ["floor"] = double.IsNaN(fid.Floor) ? null : fid.Floor };
        if (!double.IsNaN(fid.Floor)) { result["floor_n"] = fid.FloorN; result["floor_reference_n"] = fid.FloorReferenceN; }
        if (fid.Warning is not null) Console.Error.WriteLine($"difflab: warning: {fid.Warning}");
        return result;
    }

    /// <summary>A result as one JSON object, or as "key value, …" and the explanation's line.</summary>
    private static void Print(Dictionary<string, object?> result, bool json, string? explanation, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(result));
            return;
        }
        output.WriteLine(string.Join(", ", result.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value switch { double d => d.ToString("G5", CultureInfo.InvariantCulture), IDictionary<string, double> m => "{" + string.Join(", ", m.Select(e => $"{e.Key}: {e.Value:G4}")) + "}", null => "none", var v => v }}"))));
        if (explanation is not null) output.WriteLine(explanation);
    }

    internal static Command Metric(string name, string description, TextWriter output, bool needsReal)
    {
        var real = new Option<string?>("--real") { Description = "Real images: a dataset split (mnist:heldout) or a folder.", Required = needsReal };
        var fake = new Option<string>("--fake") { Description = "Generated images: a folder (e.g. OUT/images of 'difflab sample').", Required = true };
        var features = new Option<string?>("--features") { Description = name == "accuracy" ? "Classifier folder (default: the shipped classifier of the images' data set, else models/mnist-classifier)." : FeaturesHelp };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var n = new Option<int?>("--n") { Description = "Use at most N generated images (the first N files by name)." };
        var nReal = new Option<int?>("--n-real") { Description = "Use at most N real images (of a data set's split a fixed random subset, of a folder the first N files by name; default: all, which FID's real-vs-real floor needs: at least twice the generated count)." };
        var cls = new Option<int?>("--class", "-c") { Description = "accuracy: the class every image should be." };
        var seed = new Option<long>("--seed") { Description = "Seed of KID's random subsets.", DefaultValueFactory = _ => 0 };
        var cmd = new Command(name, description);
        // --class only where it is read: 'eval fid --help' used to list it though FID ignores it
        foreach (var o in new Option[] { real, fake, features, json, n, nReal, cls, seed })
            if ((o != cls || name == "accuracy") && (o != nReal || needsReal)) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            bool InParts(string? value) => value is not null && (HasStatsFile(value) || Parts(value).Length > 1);
            if (name == "fid" && (InParts(parse.GetValue(real)) || InParts(parse.GetValue(fake))))
                return FidOfSums(parse, real, fake, features, json, n, nReal, output);
            foreach (var (option, value) in new[] { ("--real", parse.GetValue(real)), ("--fake", parse.GetValue(fake)) })
                if (InParts(value))
                    throw new DiffusionLabException($"{option}: several parts and stats files (*{FeatureSumsFile.Extension}) serve FID only; give one image set for {name}");
            int? limit = parse.GetValue(n), realLimit = parse.GetValue(nReal);
            if (limit is < 2) throw new DiffusionLabException($"--n must be at least 2, got {limit}");
            if (realLimit is < 2) throw new DiffusionLabException($"--n-real must be at least 2, got {realLimit}");
            // progress on the output only when it is not JSON (a parser would read the progress lines too)
            var progressOut = parse.GetValue(json) ? TextWriter.Null : output;
            // --n limits only the generated set: limiting the real set too left FID no room for its floor (it holds n real
            // images out against the other R − n, so R must be at least 2n)
            using var fakeSet = ReadSet(parse.GetValue(fake)!, limit, progressOut);
            using var realSet = parse.GetValue(real) is string r ? ReadSet(r, realLimit, progressOut) : null;
            if (name == "accuracy" && parse.GetValue(features) == "resnet18")
                throw new DiffusionLabException("accuracy needs a classifier of the images' classes, not --features resnet18");
            var network = OpenFeatures(parse.GetValue(features), realSet?.Dataset ?? fakeSet.Dataset);
            using var owned = network as IDisposable;
            var scoring = new ProgressReporter(progressOut, "feature network");
            Action<long, long> onProgress = (done, total) => scoring.Report(done, total);
            var result = new Dictionary<string, object?>();
            string? explanation = null;
            switch (name)
            {
                case "fid":
                    var fid = Evaluator.Fid(network, realSet!, fakeSet, onProgress);
                    scoring.Done();
                    result = FidFields(fid);
                    explanation = fid.Explanation;
                    break;
                case "kid":
                    var kid = Evaluator.Kid(network, realSet!, fakeSet, parse.GetValue(seed), onProgress);
                    scoring.Done();
                    result["kid"] = kid.Mean; result["kid_se"] = kid.StandardError; result["subsets"] = kid.Subsets; result["subset_size"] = kid.SubsetSize;
                    result["n_real"] = realSet!.Count; result["n_fake"] = fakeSet.Count;
                    break;
                case "pr":
                    var pr = Evaluator.PrecisionRecall(network, realSet!, fakeSet, onProgress: onProgress);
                    scoring.Done();
                    result["precision"] = pr.Precision; result["recall"] = pr.Recall; result["k"] = pr.K;
                    result["n_real"] = realSet!.Count; result["n_fake"] = fakeSet.Count;
                    break;
                default:
                    var classifier = (Classifier)network;
                    // unlabelled images (unconditional samples) have no accuracy, but the classifier score and the
                    // confident fraction still say whether they look like any class
                    if (fakeSet.Labels is not null || parse.GetValue(cls) is not null)
                    {
                        var acc = Evaluator.ClassAccuracy(classifier, fakeSet, parse.GetValue(cls));
                        result["accuracy"] = acc.Overall;
                        result["balanced_accuracy"] = acc.Balanced;
                        result["per_class"] = acc.PerClass.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => Math.Round(kv.Value, 4));
                    }
                    else explanation = $"{fakeSet.Name} has no labels (no -classC in the file names) and no --class was given: only the classifier score and the confident fraction are measured";
                    // one pass of the classifier serves both label-free measures (checked first: unlabelled images
                    // skip ClassAccuracy's check)
                    classifier.CheckImages(fakeSet.Channels, fakeSet.Height, fakeSet.Width, fakeSet.Name);
                    using (var probabilities = classifier.Probabilities(fakeSet.Images))
                    {
                        result["classifier_score"] = Evaluator.ClassifierScore(probabilities);
                        result["confident"] = Evaluator.ConfidentFraction(probabilities);
                    }
                    result["confidence_threshold"] = Evaluator.ConfidenceThreshold;
                    result["n_fake"] = fakeSet.Count;
                    break;
            }
            result["features"] = network.Description;
            Print(result, parse.GetValue(json), explanation, output);
            return 0;
        });
        return cmd;
    }

    /// <summary>The parts of a --real/--fake value: comma-separated specs (stats files, data set splits, folders).</summary>
    private static string[] Parts(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool HasStatsFile(string? value) => value is not null && Parts(value).Any(MergedFid.IsStatsFile);

    /// <summary><c>eval fid</c> where a side is given, wholly or in part, as stats files (<see cref="MergedFid"/>).</summary>
    private static int FidOfSums(ParseResult parse, Option<string?> real, Option<string> fake, Option<string?> features, Option<bool> json,
        Option<int?> n, Option<int?> nReal, TextWriter output)
    {
        var realParts = Parts(parse.GetValue(real) ?? throw new DiffusionLabException("eval fid needs --real"));
        var fakeParts = Parts(parse.GetValue(fake)!);
        var progressOut = parse.GetValue(json) ? TextWriter.Null : output;
        var reporters = new Dictionary<string, ProgressReporter>();
        var merged = MergedFid.Compute(realParts, fakeParts, dataset => OpenFeatures(parse.GetValue(features), dataset), parse.GetValue(nReal), parse.GetValue(n),
            (what, done, total) =>
            {
                if (!reporters.TryGetValue(what, out var r)) reporters[what] = r = new ProgressReporter(progressOut, what);
                r.Report(done, total);
                if (done == total) r.Done();
            });
        var result = FidFields(merged.Report);
        result["features"] = merged.Features;
        result["parts_real"] = realParts.Length;
        result["parts_fake"] = fakeParts.Length;
        Print(result, parse.GetValue(json), merged.Report.Explanation, output);
        return 0;
    }

    /// <summary><c>eval stats</c>: the feature sums of an image set, to merge in <c>eval fid</c>.</summary>
    internal static Command Stats(TextWriter output)
    {
        var images = new Option<string>("--images") { Description = "Images: a folder (e.g. OUT/images of 'difflab sample', or a sharded run's OUT) or a data set split (emoji:train).", Required = true };
        var features = new Option<string?>("--features") { Description = FeaturesHelp };
        var outFile = new Option<string>("--out", "-o") { Description = $"The stats file to write (*{FeatureSumsFile.Extension}).", Required = true };
        var n = new Option<int?>("--n") { Description = "Use at most N images (of a split a fixed random subset, of a folder the first N by name)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("stats", "The count, sum and sum of outer products of an image set's features (float64, safetensors): the parts of a sharded evaluation, merged by 'eval fid --fake A.safetensors,B.safetensors' into the FID of their union.");
        foreach (var o in new Option[] { images, features, outFile, n, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(outFile)!;
            if (!path.EndsWith(FeatureSumsFile.Extension, StringComparison.OrdinalIgnoreCase))
                throw new DiffusionLabException($"--out must end in {FeatureSumsFile.Extension} (that is how 'eval fid' tells a stats file from a folder), got '{path}'");
            if (parse.GetValue(n) is < 1) throw new DiffusionLabException($"--n must be positive, got {parse.GetValue(n)}");
            var progressOut = parse.GetValue(json) ? TextWriter.Null : output;
            var spec = parse.GetValue(images)!;
            using var set = ReadSet(spec, parse.GetValue(n), progressOut);
            var network = OpenFeatures(parse.GetValue(features), set.Dataset);
            using var owned = network as IDisposable;
            using var f = Embed(network, set, progressOut, "feature network");
            var sums = DiffusionLab.Metrics.FeatureSums.FromFeatures(f);
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
            FeatureSumsFile.Save(path, sums, network);
            if (parse.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(new { count = sums.Count, dimension = sums.Dimension, features = network.Description, file = path }));
            else output.WriteLine($"wrote {path}: {sums.Count} images, {sums.Dimension} features ({network.Description})");
            return 0;
        });
        return cmd;
    }

    /// <summary><c>eval nearcopies</c>: how many samples are near-copies of training images (<see cref="Metrics.NearCopies"/>).</summary>
    internal static Command NearCopiesCommand(TextWriter output)
    {
        var fake = new Option<string>("--fake") { Description = "Generated images: a folder (OUT of 'difflab sample').", Required = true };
        var train = new Option<string>("--train") { Description = "The model's training images: a data set split (emoji:train) or a folder.", Required = true };
        var heldout = new Option<string>("--heldout") { Description = "Real images the model never saw, which set the threshold (emoji:heldout).", Required = true };
        var features = new Option<string?>("--features") { Description = FeaturesHelp };
        var outDir = new Option<string?>("--out", "-o") { Description = "Also write OUT/nearest.png: the closest samples beside their nearest training images." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("nearcopies", "How many samples are near-copies of training images: each sample's feature distance to its nearest training image, against a threshold that only 1 % of held-out real images fall below.");
        foreach (var o in new Option[] { fake, train, heldout, features, outDir, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var progressOut = parse.GetValue(json) ? TextWriter.Null : output;
            using var trainSet = ReadSet(parse.GetValue(train)!, null, progressOut);
            using var heldSet = ReadSet(parse.GetValue(heldout)!, null, progressOut);
            using var fakeSet = ReadSet(parse.GetValue(fake)!, null, progressOut);
            var network = OpenFeatures(parse.GetValue(features), trainSet.Dataset);
            using var owned = network as IDisposable;
            using var ft = Embed(network, trainSet, progressOut, $"feature network on {trainSet.Name}");
            using var fh = Embed(network, heldSet, progressOut, $"feature network on {heldSet.Name}");
            using var ff = Embed(network, fakeSet, progressOut, $"feature network on {fakeSet.Name}");
            var r = Metrics.NearCopies.Compute(ft, fh, ff);
            var result = new Dictionary<string, object?>
            {
                ["near_copies"] = r.FractionBelow, ["heldout_below"] = r.HeldoutFractionBelow, ["threshold"] = r.Threshold,
                ["median_distance"] = r.MedianDistance, ["heldout_median_distance"] = r.HeldoutMedianDistance,
                ["n_fake"] = fakeSet.Count, ["n_train"] = trainSet.Count, ["n_heldout"] = heldSet.Count, ["features"] = network.Description,
            };
            if (parse.GetValue(outDir) is string dir)
            {
                Directory.CreateDirectory(dir);
                var closest = Enumerable.Range(0, fakeSet.Count).OrderBy(i => r.Distances[i]).Take(8).ToArray();
                using var samples = fakeSet.Images.index_select(0, torch.tensor(closest.Select(i => (long)i).ToArray()));
                using var nearest = trainSet.Images.index_select(0, torch.tensor(closest.Select(i => (long)r.NearestTraining[i]).ToArray()));
                var path = Path.Combine(dir, "nearest.png");
                ImageGrid.SaveRows(path, [samples, nearest], ["closest samples", "nearest training image"]);
                result["picture"] = path;
            }
            if (parse.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(result));
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"near-copies: {r.FractionBelow:P1} of {fakeSet.Count} samples are closer to a training image than {r.Threshold:G4} ({network.Description}), the distance only {Metrics.NearCopies.Quantile:P0} of held-out real images fall below ({r.HeldoutFractionBelow:P1} of them here)"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median distance to the nearest training image: samples {r.MedianDistance:G4}, held-out real images {r.HeldoutMedianDistance:G4}"));
                if (result.TryGetValue("picture", out var pic)) output.WriteLine($"wrote {pic}");
            }
            return 0;
        });
        return cmd;
    }
}
