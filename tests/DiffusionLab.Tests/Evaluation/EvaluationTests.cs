using DiffusionLab.Training;
using DiffusionLab.Cli;
using DiffusionLab.Evaluation;
using DiffusionLab.Imaging;
using DiffusionLab.Tests.Runs;
using TorchSharp;
using static TorchSharp.torch;
using DiffusionLab.Studies;

namespace DiffusionLab.Tests.Evaluation;

public class EvaluationTests
{
    [Fact]
    public void RandomAffineAugmentationKeepsTheBackgroundAndRoughlyTheInk()
    {
        using var scope = torch.NewDisposeScope();
        var background = torch.full(4, 1, 28, 28, -1f);
        var g = DiffusionLab.TensorOps.SeededGenerator(1);
        Assert.True((Classifier.RandomAffine(background, g, 2) + 1).abs().max().item<float>() < 1e-5); // padding is background, not grey
        var blob = torch.full(8, 1, 28, 28, -1f);
        blob[.., .., 10..18, 10..18] = torch.tensor(1f);
        var warped = Classifier.RandomAffine(blob, g, 2);
        var ink = ((warped + 1) / 2).sum([1, 2, 3]);
        // scale 0.9–1.1 changes the area by at most (1/0.9)² ≈ 1.23; rotation and shift keep it
        Assert.True(ink.min().item<float>() > 64 * 0.75f && ink.max().item<float>() < 64 * 1.3f, ink.ToString(TorchSharp.TensorStringStyle.Julia));
        Assert.True((warped - blob).abs().max().item<float>() > 0.5f, "the images were not warped");
        Assert.Equal(0f, (Classifier.RandomAffine(blob, DiffusionLab.TensorOps.SeededGenerator(3), 2) - Classifier.RandomAffine(blob, DiffusionLab.TensorOps.SeededGenerator(3), 2)).abs().max().item<float>());
    }

    private static string Temp() => Directory.CreateTempSubdirectory("difflab-eval").FullName;

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>A classifier trained on the bars data (8×8, 4 classes), saved to a folder.</summary>
    private static string TrainedClassifier()
    {
        var dir = Temp();
        using var c = Classifier.Train(TinyData.Bars(256, 8, 4, seed: 1), TinyData.Bars(64, 8, 4, seed: 2), "bars", dir, epochs: 3, batchSize: 32, seed: 0);
        Assert.True(c.Info.HeldoutAccuracy > 0.9, $"accuracy {c.Info.HeldoutAccuracy}");
        // the bars' held-out set is class-balanced, so the balanced accuracy (mean of the per-class ones) equals the plain one
        Assert.Equal(4, c.Info.HeldoutClassAccuracy!.Length);
        Assert.Equal(c.Info.HeldoutClassAccuracy.Average()!.Value, c.Info.HeldoutBalancedAccuracy!.Value, 12);
        Assert.Equal(c.Info.HeldoutAccuracy, c.Info.HeldoutBalancedAccuracy.Value, 12);
        return dir;
    }

    [Fact]
    public void StatsFilesOfPartsMergeIntoTheFidOfTheirUnion()
    {
        var features = TrainedClassifier();
        var data = TinyData.Bars(96, 8, 4, seed: 4);
        var (images, _) = data.Take(96);
        var real = WriteFolder(images[..64], data.Labels[..64]);
        var fakeAll = WriteFolder(images[64..], data.Labels[64..]);
        var fakeA = WriteFolder(images[64..80], data.Labels[64..80]);
        var fakeB = WriteFolder(images[80..], data.Labels[80..]);
        var dir = Temp();
        string statsA = Path.Combine(dir, "a.safetensors"), statsB = Path.Combine(dir, "b.safetensors"), statsReal = Path.Combine(dir, "real.safetensors");
        foreach (var (images_, path) in new[] { (fakeA, statsA), (fakeB, statsB), (real, statsReal) })
        {
            var (c, o, e) = Run("eval", "stats", "--images", images_, "--features", features, "--out", path);
            Assert.True(c == 0, e);
            Assert.Contains("wrote", o);
        }
        double Fid(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("fid").GetDouble();
        var (code, direct, err) = Run("eval", "fid", "--real", real, "--fake", fakeAll, "--features", features, "--json");
        Assert.True(code == 0, err);
        // the fake side as two stats files, the real side as images: the same FID, and the floor is still there
        var (code2, merged, err2) = Run("eval", "fid", "--real", real, "--fake", $"{statsA},{statsB}", "--features", features, "--json");
        Assert.True(code2 == 0, err2);
        // the same parts given as image folders embed the same batches: the stats files carry exactly what the images give
        var (codeParts, parts, errParts) = Run("eval", "fid", "--real", real, "--fake", $"{fakeA},{fakeB}", "--features", features, "--json");
        Assert.True(codeParts == 0, errParts);
        Assert.Equal(Fid(parts), Fid(merged), 12);
        // against the one-folder run the features themselves differ in float32's last bits (the network sees other
        // batches); that the merge itself is exact is FeatureSumsTests' check
        Assert.True(Math.Abs(Fid(direct) - Fid(merged)) <= 1e-4 * Fid(direct) + 1e-6, $"direct {Fid(direct)}, merged {Fid(merged)}");
        Assert.Contains("\"n_fake\":32", merged);
        Assert.Contains("\"floor_n\":32", merged);
        // both sides as stats files: the same FID, no floor (it needs the real features), and the reason is printed
        var (code3, both, err3) = Run("eval", "fid", "--real", statsReal, "--fake", $"{statsA},{statsB}");
        Assert.True(code3 == 0, err3);
        Assert.Contains("floor none", both);
        Assert.Contains("given as feature sums", both);
        // a stats file of another feature network is refused, naming both
        var other = Path.Combine(dir, "other.safetensors");
        var otherFeatures = TrainedClassifierWithSeed(5);
        Assert.Equal(0, Run("eval", "stats", "--images", fakeB, "--features", otherFeatures, "--out", other).Code);
        var (code4, _, err4) = Run("eval", "fid", "--real", real, "--fake", $"{statsA},{other}", "--features", features);
        Assert.Equal(1, code4);
        Assert.Contains("different feature networks", err4);
        // KID needs the images, and a file that is not a stats file is one line
        Assert.Contains("serve FID only", Run("eval", "kid", "--real", real, "--fake", statsA, "--features", features).Err);
        var junk = Path.Combine(dir, "junk.safetensors");
        File.WriteAllText(junk, "not a safetensors file");
        var (code5, _, err5) = Run("eval", "fid", "--real", real, "--fake", junk, "--features", features);
        Assert.Equal(1, code5);
        Assert.Contains("junk.safetensors is not a", err5);
        Assert.Contains("--out must end in .safetensors", Run("eval", "stats", "--images", real, "--out", Path.Combine(dir, "x.bin")).Err);
    }

    [Fact]
    public void ASampleRunsShardsAreReadAsOneSetOnlyWhenComplete()
    {
        var dir = Temp();
        string[] args = ["sample", "--class", "1", "--n", "4", "--batch-size", "2", "--steps", "2", "--seed", "1", "--out", dir];
        Assert.Equal(0, Run([.. args, "--shard", "0/2"]).Code);
        var (code, _, err) = Run("eval", "accuracy", "--fake", dir, "--json");
        Assert.Equal(1, code);
        Assert.Contains("lacks part 1/2", err);
        Assert.Equal(0, Run([.. args, "--shard", "1/2"]).Code);
        using var set = ImageSets.Load(dir);
        Assert.Equal(4, set.Count); // the four samples, not the parts' grids
        Assert.Equal([1, 1, 1, 1], set.Labels!);
    }

    [Fact]
    public void CopiedTrainingImagesAreFlaggedAsNearCopies()
    {
        var features = TrainedClassifier();
        var data = TinyData.Bars(120, 8, 4, seed: 6);
        var (images, _) = data.Take(120);
        var train = WriteFolder(images[..80], data.Labels[..80]);
        var heldout = WriteFolder(images[80..], data.Labels[80..]);
        var copies = WriteFolder(images[..10], data.Labels[..10]); // the first ten training images, as if sampled
        var outDir = Temp();
        var (code, o, err) = Run("eval", "nearcopies", "--fake", copies, "--train", train, "--heldout", heldout, "--features", features, "--out", outDir, "--json");
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(o.Trim().Split('\n')[^1]);
        Assert.Equal(1.0, doc.RootElement.GetProperty("near_copies").GetDouble());
        Assert.Equal(0.0, doc.RootElement.GetProperty("median_distance").GetDouble(), 6);
        Assert.True(File.Exists(Path.Combine(outDir, "nearest.png")));
    }

    private static string TrainedClassifierWithSeed(int seed)
    {
        var dir = Temp();
        Classifier.Train(TinyData.Bars(64, 8, 4, seed: 1), TinyData.Bars(16, 8, 4, seed: 2), "bars", dir, epochs: 1, batchSize: 32, seed: seed).Dispose();
        return dir;
    }

    [Fact]
    public void ALimitedSplitIsAFixedRandomSubsetNotItsFirstClass()
    {
        // a folder data set's training split lists its classes one after the other (red, then blue)
        var spec = "folder:" + TinyData.RgbFolder(perClass: 10, size: 8) + ":train";
        using var all = ImageSets.Load(spec);
        Assert.Equal(0, all.Labels![0]);
        using var some = ImageSets.Load(spec, limit: 6);
        using var again = ImageSets.Load(spec, limit: 6);
        Assert.Equal(6, some.Count);
        Assert.Equal(2, some.Labels!.Distinct().Count()); // the first 6 would all be red
        Assert.Equal(some.Labels, again.Labels);
        Assert.Equal(0f, (some.Images - again.Images).abs().max().item<float>());
    }

    [Fact]
    public void BalancedCrossEntropyIsTheMeanOfThePerClassMeanLosses()
    {
        using var scope = torch.NewDisposeScope();
        // three images of class 0, one of class 1, one of class 2 (of 4: class 3 has none)
        int[] labels = [0, 0, 0, 1, 2];
        var weights = Classifier.BalancedWeights(labels, 4);
        Assert.Equal(new[] { 5 / 12f, 5 / 4f, 5 / 4f, 0f }, weights.data<float>().ToArray());
        var logits = torch.randn(5, 4, generator: DiffusionLab.TensorOps.SeededGenerator(2));
        var y = torch.tensor(labels.Select(l => (long)l).ToArray());
        double weighted = nn.functional.cross_entropy(logits, y, weight: weights).item<float>();
        var each = nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.None).data<float>().ToArray();
        // independent: each present class's mean loss, averaged over the classes — what a class-balanced set would give
        double perClass = labels.Distinct().Average(c => Enumerable.Range(0, 5).Where(i => labels[i] == c).Average(i => (double)each[i]));
        Assert.Equal(perClass, weighted, 5);
    }

    private static string WriteFolder(Tensor images, int[]? labels)
    {
        var dir = Temp();
        for (int i = 0; i < images.shape[0]; i++)
            ImageTensor.SavePng(images[i], Path.Combine(dir, labels is null ? $"{i:D5}.png" : $"{i:D5}-class{labels[i]}.png"));
        return dir;
    }

    [Fact]
    public void ClassifierTrainingStoppedAndResumedEndsWithTheWeightsOfAnUninterruptedOne()
    {
        // The classifier trains through the shared Trainer: every step's batch, augmentation and dropout are functions of
        // (seed, step), so stopping after step 5 of 16 and resuming must give the same bytes as one run.
        var train = TinyData.Bars(128, 8, 4, seed: 1);
        var heldout = TinyData.Bars(32, 8, 4, seed: 2);
        string whole = Temp(), parts = Temp();
        Classifier.Train(train, heldout, "bars", whole, epochs: 2, batchSize: 16, seed: 3).Dispose();
        int steps = 0;
        Classifier.Train(train, heldout, "bars", parts, epochs: 2, batchSize: 16, seed: 3, shouldStop: () => ++steps == 5).Dispose();
        Assert.Equal(5, Trainer.CheckpointStep(Path.Combine(parts, Trainer.CheckpointFile)));
        Assert.False(File.Exists(Path.Combine(parts, Classifier.WeightsFile))); // a stopped training is not a classifier yet
        var refused = Assert.Throws<DiffusionLabException>(() => Classifier.Train(train, heldout, "bars", parts, epochs: 2, batchSize: 8, seed: 3, resume: true));
        Assert.Contains("BatchSize is 16 there, 8 now", refused.Message);
        Classifier.Train(train, heldout, "bars", parts, epochs: 2, batchSize: 16, seed: 3, resume: true).Dispose();
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, Classifier.WeightsFile)), File.ReadAllBytes(Path.Combine(parts, Classifier.WeightsFile)));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "loss.csv")), File.ReadAllText(Path.Combine(parts, "loss.csv")));
    }

    [Fact]
    public void ClassifierJudgesFoldersAndFidOfASplitWithItselfIsZero()
    {
        var features = TrainedClassifier();
        using var classifier = Classifier.Load(features);
        var data = TinyData.Bars(64, 8, 4, seed: 3);
        var (images, _) = data.Take(64);
        var folder = WriteFolder(images, data.Labels);
        using var set = ImageSets.Load(folder);
        Assert.Equal(data.Labels, set.Labels);
        Assert.Equal(1, set.Channels); // gray PNGs are read back as one channel
        Assert.True(Evaluator.Accuracy(classifier, set) > 0.9);
        Assert.True(Evaluator.Accuracy(classifier, set, target: 0) < 0.5);
        var fid = Evaluator.Fid(classifier, set, set);
        Assert.Equal(0, fid.Fid, 6);
        Assert.NotNull(fid.Warning); // 64 images is below the recommended count
        var pr = Evaluator.PrecisionRecall(classifier, set, set);
        Assert.Equal((1.0, 1.0), (pr.Precision, pr.Recall));
        // a blank set is far from the data: compared at the same size (64 vs 64) with a second real draw, since FID
        // depends on the sample size (64 real images are too few for a floor at 64 samples)
        using var blankSet = ImageSets.Load(WriteFolder(-torch.ones(64, 1, 8, 8), null));
        var other = TinyData.Bars(64, 8, 4, seed: 5);
        using var otherSet = new ImageSet("bars-5", other.Take(64).Images, other.Labels, null);
        var blankFid = Evaluator.Fid(classifier, set, blankSet).Fid;
        var realFid = Evaluator.Fid(classifier, set, otherSet).Fid;
        Assert.True(blankFid > 10 * Math.Max(realFid, 1e-3), $"blank {blankFid}, real vs real {realFid}");

        // CLI: JSON with the required keys
        var (code, o, err) = Run("eval", "fid", "--real", folder, "--fake", folder, "--features", features, "--json");
        Assert.True(code == 0, err);
        foreach (var key in new[] { "\"fid\":", "\"n_real\":64", "\"n_fake\":64", "\"floor\":null" }) Assert.Contains(key, o);
        var half = WriteFolder(images[..32], data.Labels[..32]);
        (code, o, err) = Run("eval", "fid", "--real", folder, "--fake", half, "--features", features);
        Assert.True(code == 0, err);
        Assert.Contains("floor: 32 real images against the other 32", o); // like for like, explained
        Assert.Contains("feature network: 100 % (96/96)", o); // progress, plain lines when redirected
        // --n limits the generated set only, so the floor still has the whole real set to hold n images out of
        (code, o, err) = Run("eval", "fid", "--real", folder, "--fake", folder, "--features", features, "--n", "16", "--json");
        Assert.True(code == 0, err);
        foreach (var key in new[] { "\"n_real\":64", "\"n_fake\":16", "\"floor_n\":16", "\"floor_reference_n\":48" }) Assert.Contains(key, o);
        (code, o, err) = Run("eval", "fid", "--real", folder, "--fake", folder, "--features", features, "--n", "16", "--n-real", "24", "--json");
        Assert.True(code == 0, err);
        foreach (var key in new[] { "\"n_real\":24", "\"n_fake\":16", "\"floor\":null" }) Assert.Contains(key, o);
        (code, o, err) = Run("eval", "accuracy", "--fake", folder, "--features", features, "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"accuracy\":", o);
        (code, _, err) = Run("eval", "kid", "--real", folder, "--fake", folder, "--features", features);
        Assert.True(code == 0, err);
        (code, _, err) = Run("eval", "pr", "--real", folder, "--fake", folder, "--features", features);
        Assert.True(code == 0, err);
    }

    [Fact]
    public void TheConfidentFractionCountsImagesWhoseMostLikelyClassPassesTheThreshold()
    {
        var features = TrainedClassifier();
        using var classifier = Classifier.Load(features);
        var data = TinyData.Bars(64, 8, 4, seed: 3);
        using var set = new ImageSet("bars", data.Take(64).Images, data.Labels, null);
        // an independent count: the probabilities' rows walked one by one in plain C#
        using var p = classifier.Probabilities(set.Images);
        var flat = p.to_type(ScalarType.Float64).data<double>().ToArray();
        int classes = (int)p.shape[1];
        foreach (var threshold in new[] { 0.0, 0.5, 0.9, 0.99, 1.0 })
        {
            int count = 0;
            for (int i = 0; i < set.Count; i++)
                if (Enumerable.Range(0, classes).Max(c => flat[i * classes + c]) >= threshold) count++;
            Assert.Equal(count / (double)set.Count, Evaluator.ConfidentFraction(classifier, set, threshold), 12);
        }
        Assert.Equal(1.0, Evaluator.ConfidentFraction(classifier, set, 0)); // every image has a most likely class
        Assert.Contains("[0, 1]", Assert.Throws<DiffusionLabException>(() => Evaluator.ConfidentFraction(classifier, set, 1.5)).Message);
        // unlabelled images: no accuracy, but the confident fraction and the classifier score, and a line saying why
        var unlabelled = WriteFolder(data.Take(64).Images, null);
        var (code, o, err) = Run("eval", "accuracy", "--fake", unlabelled, "--features", features);
        Assert.True(code == 0, err);
        Assert.Contains("confident ", o);
        Assert.DoesNotContain("accuracy ", o);
        Assert.Contains("has no labels", o);
        (code, o, err) = Run("eval", "accuracy", "--fake", unlabelled, "--features", features, "--json");
        Assert.True(code == 0, err);
        var json = System.Text.Json.JsonDocument.Parse(o).RootElement;
        Assert.Equal(Evaluator.ConfidentFraction(classifier, set), json.GetProperty("confident").GetDouble(), 12);
        Assert.Equal(0.9, json.GetProperty("confidence_threshold").GetDouble());
    }

    [Fact]
    public void BadEvaluationInputGivesOneClearError()
    {
        var features = TrainedClassifier();
        var gray8 = WriteFolder(torch.rand(4, 1, 8, 8) * 2 - 1, null);
        var gray12 = WriteFolder(torch.rand(4, 1, 12, 12) * 2 - 1, null);
        var rgb8 = WriteFolder(torch.rand(4, 3, 8, 8) * 2 - 1, null);
        var empty = Temp();
        foreach (var (args, message) in new (string[], string)[]
        {
            (["eval", "fid", "--real", gray8, "--fake", gray12, "--features", features], "differ"),
            (["eval", "fid", "--real", gray8, "--fake", rgb8, "--features", features], "differ"),
            (["eval", "fid", "--real", gray12, "--fake", gray12, "--features", features], "feature network"),
            (["eval", "fid", "--real", gray8, "--fake", empty, "--features", features], "no images"),
            (["eval", "fid", "--real", "nowhere:heldout", "--fake", gray8, "--features", features], "unknown dataset"),
            (["eval", "accuracy", "--fake", gray8, "--class", "9", "--features", features], "out of range"),
            (["eval", "fid", "--real", gray8, "--fake", gray8, "--features", empty], "not a classifier folder"),
        })
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 1, $"{string.Join(' ', args)} → {code}: {err}");
            Assert.Contains(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void GuidanceStudyScoresEverySettingFromTheSameNoise()
    {
        var features = TrainedClassifier();
        using var classifier = Classifier.Load(features);
        var config = DiffusionLab.Runs.ImageRunConfig.Preset("cs180-class") with
        {
            Dataset = "bars", ImageSize = 8, Channels = 1, ClassNames = ["bar0", "bar1", "bar2", "bar3"], Hidden = 4, BatchSize = 16, Epochs = 1, DiffusionSteps = 20, GridEvery = 0,
        };
        using var model = DiffusionLab.Runs.ImageRun.Create(config);
        model.Train(TinyData.Bars(64), Temp());
        var (images, _) = TinyData.Bars(32, seed: 4).Take(32);
        using var real = new ImageSet("bars", images, null, "bars");
        var settings = new GuidanceStudy.Setting[] { new("gamma=0", 0, "ddim", 3), new("gamma=3", 3, "ddim", 3), new("unconditional", 0, "ddim", 3, true) };
        var rows = GuidanceStudy.Run(model, classifier, classifier, real, settings, n: 8, seed: 1);
        Assert.Equal(3, rows.Count);
        Assert.Equal(3, rows[0].Nfe);   // γ = 0 is the unconditional pass only
        Assert.Equal(6, rows[1].Nfe);   // cond + uncond
        Assert.Equal(rows[0].Fid, rows[2].Fid, 9); // γ = 0 and the null class are the same model and the same noise
        Assert.True(double.IsNaN(rows[2].Accuracy));
        Assert.All(rows.Take(2), r => Assert.InRange(r.Accuracy, 0, 1));
        Assert.All(rows, r => Assert.InRange(r.Confident, 0, 1)); // unconditional samples have a confident fraction too
        Assert.Equal(rows[0].Confident, rows[2].Confident, 9);
        var dir = Temp();
        GuidanceStudy.WriteCsv(rows, Path.Combine(dir, "study.csv"));
        var back = GuidanceStudy.ReadCsv(Path.Combine(dir, "study.csv"));
        Assert.Equal(rows.Select(r => r.Confident), back.Select(r => r.Confident));
        // a study.csv written before the confident fraction existed still resumes (its rows read as NaN)
        var old = Path.Combine(dir, "old.csv");
        File.WriteAllLines(old, File.ReadAllLines(Path.Combine(dir, "study.csv")).Select(l => l[..l.LastIndexOf(',')]));
        Assert.All(GuidanceStudy.ReadCsv(old), r => Assert.True(double.IsNaN(r.Confident)));
        GuidanceStudy.WriteGuidanceCharts(rows, dir, "emoji classifier");
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "study.csv")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "guidance-fid.png")));
    }

    [Fact]
    public void TheFloorIsWhatSamplesFromTheRealDistributionScoreAtTheSameN()
    {
        // A perfect generator draws from the real distribution: its expected FID at n samples against R real images is
        // what the floor must estimate. FID's bias grows like 1/n + 1/R, so the old floor (n real against n real) sat
        // near twice the perfect generator's score at small n — above samples that were in fact as good as real.
        using var scope = torch.NewDisposeScope();
        const int d = 8, r = 2000, n = 100, draws = 12;
        double perfect = 0, floor = 0, halves = 0;
        for (int i = 0; i < draws; i++)
        {
            var real = torch.randn(r, d, dtype: ScalarType.Float64, generator: new Generator((ulong)(100 + i)));
            var samples = torch.randn(n, d, dtype: ScalarType.Float64, generator: new Generator((ulong)(900 + i)));
            perfect += DiffusionLab.Metrics.FrechetDistance.Compute(real, samples) / draws;
            floor += Evaluator.Floor(real, n) / draws;
            halves += DiffusionLab.Metrics.FrechetDistance.Compute(real[..n], real[n..(2 * n)]) / draws;
        }
        Assert.InRange(floor / perfect, 0.8, 1.25);
        Assert.True(halves / perfect > 1.5, $"the n-against-n split scored {halves / perfect:F2}× the perfect generator; the test no longer tells the two apart");
        Assert.True(double.IsNaN(Evaluator.Floor(torch.randn(150, d), n))); // R < 2n: no like-for-like reference
    }

    [Fact]
    public void TheFloorSplitsClassSortedDataIntoComparableHalves()
    {
        // mnist:heldout is sorted by class; splitting it in first and second halves would compare different digits.
        using var scope = torch.NewDisposeScope();
        var sorted = torch.cat([torch.randn(200, 4, generator: new Generator(1)), torch.randn(200, 4, generator: new Generator(2)) + 10]);
        double naive = DiffusionLab.Metrics.FrechetDistance.Compute(sorted[..200], sorted[200..]);
        double floor = Evaluator.Floor(sorted, 200);
        Assert.True(naive > 300, $"naive {naive}");
        Assert.True(floor < 2, $"floor {floor}");
    }
}
