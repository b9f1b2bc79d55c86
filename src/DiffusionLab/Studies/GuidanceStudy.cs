using System.Globalization;
using System.Text;
using DiffusionLab.Evaluation;
using DiffusionLab.Runs;
using DiffusionLab.Metrics;
using DiffusionLab.Plotting;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Studies;

/// <summary>One row of a sampling study: the setting and its scores on the domain features.</summary>
public sealed record StudyRow(string Setting, double Gamma, string Sampler, int Steps, int Nfe, int N, double Fid, double FidFloor,
    double Kid, double KidSe, double Precision, double Recall, double Accuracy, double Seconds, double Confident = double.NaN);

/// <summary>
/// The studies of the noise-schedule, DDIM/CFG and class-conditional assignments as one routine: sample a class-conditional model under several settings
/// (guidance scale γ, sampler, number of steps) with the same seed — so every setting starts from the same noise —
/// and score each sample set against real images with FID (with the real-vs-real floor), KID, precision/recall,
/// class accuracy and the fraction the judge reads confidently as some class (which unconditional samples have too). Writes <c>study.csv</c> and charts.
/// </summary>
public static class GuidanceStudy
{
    public sealed record Setting(string Name, double Gamma, string Sampler, int Steps, bool Unconditional = false);

    /// <summary>Runs <paramref name="settings"/>; FID, KID and precision/recall on <paramref name="features"/>, class
    /// accuracy read by <paramref name="judge"/> (often the same classifier). <paramref name="precision"/> is the sampling
    /// network's ("fp32" or "bf16", as <see cref="ImageSampleOptions.Precision"/>).</summary>
    public static IReadOnlyList<StudyRow> Run(ImageRun model, IFeatureNetwork features, Classifier judge, ImageSet real, IReadOnlyList<Setting> settings,
        int n, long seed, int batchSize = 100, Action<StudyRow>? onRow = null, string precision = "fp32")
    {
        if (model.NumClasses == 0) throw new DiffusionLabException("the guidance study needs a class-conditional model");
        if (n < 2) throw new DiffusionLabException($"`n` must be at least 2, got {n}");
        judge.CheckImages(model.Config.Channels, model.Config.ImageSize, model.Config.ImageSize, "the model's images");
        judge.CheckImages(real.Channels, real.Height, real.Width, real.Name); // so the real images are the model's size too, whatever `features` takes
        using var realFeatures = FeatureCache.Features(features, real);
        double floor = Evaluator.Floor(realFeatures, n); // like for like with every row's FID (n samples against the real set)
        var labels = Enumerable.Range(0, n).Select(i => i % model.NumClasses).ToArray();
        var rows = new List<StudyRow>();
        foreach (var s in settings)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var options = new ImageSampleOptions
            {
                Sampler = s.Sampler, Steps = s.Steps, Labels = s.Unconditional ? null : labels, GuidanceScale = s.Unconditional ? 1 : s.Gamma,
                BatchSize = batchSize, Seed = seed, Precision = precision,
            };
            using var images = model.Sample(n, options);
            double seconds = clock.Elapsed.TotalSeconds;
            using var scope = torch.NewDisposeScope();
            var f = features.Features(images);
            double fid = FrechetDistance.Compute(realFeatures, f);
            var kid = KernelInceptionDistance.Compute(realFeatures, f, subsets: 50, subsetSize: Math.Min(n, 500), seed: seed);
            var pr = PrecisionRecall.Compute(realFeatures, f);
            var probabilities = judge.Probabilities(images);
            var predicted = probabilities.argmax(1).data<long>().ToArray();
            double confident = Evaluator.ConfidentFraction(probabilities);
            double acc = s.Unconditional ? double.NaN : predicted.Zip(labels).Count(p => p.First == p.Second) / (double)n;
            int nfe = model.FunctionEvaluations(options) * ClassifierFreeGuidance.Passes(!s.Unconditional, s.Gamma);
            var row = new StudyRow(s.Name, s.Gamma, s.Sampler, model.StepsOf(options), nfe, n, fid, floor, kid.Mean, kid.StandardError, pr.Precision, pr.Recall, acc, seconds, confident);
            rows.Add(row);
            onRow?.Invoke(row);
        }
        return rows;
    }

    public static void WriteCsv(IReadOnlyList<StudyRow> rows, string path)
    {
        var sb = new StringBuilder("setting,gamma,sampler,steps,nfe,n,fid,fid_floor,kid,kid_se,precision,recall,accuracy,seconds,confident\n");
        foreach (var r in rows)
            sb.Append(CultureInfo.InvariantCulture, $"{r.Setting},{r.Gamma},{r.Sampler},{r.Steps},{r.Nfe},{r.N},{r.Fid:R},{r.FidFloor:R},{r.Kid:R},{r.KidSe:R},{r.Precision:R},{r.Recall:R},{r.Accuracy:R},{r.Seconds:F2},{r.Confident:R}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads a <see cref="WriteCsv"/> file back (to resume a study or redraw its charts).</summary>
    public static List<StudyRow> ReadCsv(string path)
    {
        var rows = new List<StudyRow>();
        var lines = File.ReadAllLines(path);
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            // 14 fields: written before the confident fraction was measured
            if (f.Length is not (14 or 15)) throw new DiffusionLabException($"{path}, line {i + 1}: expected 15 fields (14 before the confident fraction), got {f.Length}");
            double D(int k) => double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new DiffusionLabException($"{path}, line {i + 1}: '{f[k]}' is not a number");
            rows.Add(new StudyRow(f[0], D(1), f[2], (int)D(3), (int)D(4), (int)D(5), D(6), D(7), D(8), D(9), D(10), D(11), D(12), D(13), f.Length == 15 ? D(14) : double.NaN));
        }
        return rows;
    }

    /// <summary>fid-vs-nfe.png: FID against network evaluations per image, one line per sampler, log–log; the title names
    /// the <paramref name="features"/> the FID was computed on.</summary>
    public static void WriteSamplerChart(IReadOnlyList<StudyRow> rows, string dir, string features)
    {
        var plot = PlotFiles.LogLogLines($"FID ({features}) against network evaluations", "NFE per image", "FID",
            rows.GroupBy(r => r.Sampler).Select(g => (g.Key, g.OrderBy(r => r.Nfe).Select(r => (double)r.Nfe).ToArray(), g.OrderBy(r => r.Nfe).Select(r => r.Fid).ToArray())));
        PlotFiles.SavePng(plot, Path.Combine(dir, "fid-vs-nfe.png"));
    }

    /// <summary>Charts against γ: FID (with its floor) on <paramref name="features"/> in one, precision, recall and accuracy
    /// in another.</summary>
    public static void WriteGuidanceCharts(IReadOnlyList<StudyRow> rows, string dir, string features)
    {
        var g = rows.Where(r => r.Setting.StartsWith("gamma")).OrderBy(r => r.Gamma).ToList();
        if (g.Count < 2) return;
        double[] x = g.Select(r => r.Gamma).ToArray();
        var fid = PlotFiles.Lines($"FID ({features}) against guidance scale γ", "γ", "FID",
            [("FID", x, g.Select(r => r.Fid).ToArray()), ("real-vs-real floor", x, g.Select(r => r.FidFloor).ToArray())]);
        PlotFiles.SavePng(fid, Path.Combine(dir, "guidance-fid.png"));
        var pr = PlotFiles.Lines("Quality against diversity as γ grows", "γ", "fraction",
            [("precision", x, g.Select(r => r.Precision).ToArray()), ("recall", x, g.Select(r => r.Recall).ToArray()), ("class accuracy", x, g.Select(r => r.Accuracy).ToArray())]);
        PlotFiles.SavePng(pr, Path.Combine(dir, "guidance-pr.png"));
    }
}
