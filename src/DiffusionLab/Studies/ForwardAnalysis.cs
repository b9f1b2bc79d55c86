using DiffusionLab.Schedules;
using DiffusionLab.Metrics;

namespace DiffusionLab.Studies;

/// <summary>Settings of the forward-process structure study (the noise-schedule assignment: keep the data structured for as many steps as possible).</summary>
public sealed record ForwardAnalysisOptions
{
    /// <summary>Side of the square image patches whose distribution is compared with N(0, I).</summary>
    public int PatchSize { get; init; } = 4;
    /// <summary>Number of random slicing directions.</summary>
    public int Projections { get; init; } = 64;
    /// <summary>x_t counts as recognisable while corr(x_t, x_0) ≥ this.</summary>
    public double CorrelationThreshold { get; init; } = 0.5;
    /// <summary>x_t counts as structured while its normalised patch distance to N(0, I) is ≥ this.</summary>
    public double StructureThreshold { get; init; } = 0.1;
    public long Seed { get; init; } = 0;
    /// <summary>
    /// Steps at which x_t is measured, evenly spaced over 0..T (all steps when ≥ T). Counts of steps are
    /// interpolated between them: the curves are smooth, and sorting patch projections at every one of
    /// 1000 steps costs ~20 ms each on this CPU.
    /// </summary>
    public int EvaluationPoints { get; init; } = 200;
}

/// <summary>One step of the study.</summary>
public sealed record StructurePoint(int Step, double AlphaBar, double Correlation, double SlicedWasserstein, double Structure);

/// <summary>The study's result for one schedule.</summary>
public sealed record ScheduleStructure(
    NoiseSchedule Schedule,
    IReadOnlyList<StructurePoint> Points,
    int StepsRecognisable,
    int StepsStructured,
    double HalfSignalFraction)
{
    public string Name => Schedule.Name;
}

/// <summary>
/// Measures, step by step, how structured x_t ~ q(x_t | x_0) still is under a schedule: its correlation with
/// x_0 and the sliced Wasserstein distance of its patches to N(0, I), normalised to 1 at x_0 and 0 at pure
/// noise. Every schedule sees the same ε (common random numbers), so differences are the schedules' alone.
/// </summary>
public static class ForwardAnalysis
{
    public static ScheduleStructure Analyse(Tensor x0, Tensor noise, NoiseSchedule schedule, ForwardAnalysisOptions options, Action? onStep = null)
    {
        if (!x0.shape.SequenceEqual(noise.shape)) throw new ArgumentException("x0 and noise must have the same shape");
        int dim = (int)(x0.shape[0] * options.PatchSize * options.PatchSize);
        using var directions = StructureMetrics.RandomDirections(dim, options.Projections, options.Seed);
        double swData, swNoise;
        using (var pd = StructureMetrics.Patches(x0, options.PatchSize)) swData = StructureMetrics.SlicedWassersteinToStandardNormal(pd, directions);
        using (var pn = StructureMetrics.Patches(noise, options.PatchSize)) swNoise = StructureMetrics.SlicedWassersteinToStandardNormal(pn, directions);
        double span = swData - swNoise;

        var evalSteps = EvaluationSteps(schedule.Steps, options.EvaluationPoints);
        var points = new List<StructurePoint>(evalSteps.Count);
        const int chunk = 8; // steps evaluated per batched call: amortises per-op overhead without huge buffers
        for (int start = 0; start < evalSteps.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var steps = evalSteps.Skip(start).Take(chunk).ToArray();
            int count = steps.Length;
            var xt = ForwardProcess.SampleEachStep(schedule, x0, steps, noise);
            var corr = StructureMetrics.BatchCorrelation(xt, x0).cpu().data<double>().ToArray();
            var sw = StructureMetrics.BatchSlicedWassersteinToStandardNormal(StructureMetrics.BatchPatches(xt, options.PatchSize), directions)
                .cpu().data<double>().ToArray();
            for (int i = 0; i < count; i++)
            {
                double structure = span > 0 ? (sw[i] - swNoise) / span : 0;
                points.Add(new StructurePoint(steps[i], schedule.AlphaBar(steps[i]), corr[i], sw[i], structure));
                onStep?.Invoke();
            }
        }
        int recognisable = CountSteps(points, schedule.Steps, p => p.Correlation, options.CorrelationThreshold);
        int structured = CountSteps(points, schedule.Steps, p => p.Structure, options.StructureThreshold);
        int half = Enumerable.Range(1, schedule.Steps).FirstOrDefault(t => schedule.AlphaBar(t) < 0.5, schedule.Steps + 1);
        return new ScheduleStructure(schedule, points, recognisable, structured, (double)(half - 1) / schedule.Steps);
    }

    /// <summary>0..T evenly subsampled to at most <paramref name="points"/> + 1 steps, always including 0 and T.</summary>
    public static IReadOnlyList<int> EvaluationSteps(int steps, int points)
    {
        if (points < 1) throw new DiffusionLabException($"evaluation points must be positive, got {points}");
        if (points >= steps) return Enumerable.Range(0, steps + 1).ToList();
        return Enumerable.Range(0, points + 1).Select(k => (int)Math.Round((double)k * steps / points)).Distinct().ToList();
    }

    // Number of steps t in 1..T whose value (linearly interpolated between evaluated steps) is ≥ threshold.
    private static int CountSteps(IReadOnlyList<StructurePoint> points, int steps, Func<StructurePoint, double> value, double threshold)
    {
        int count = 0, k = 0;
        for (int t = 1; t <= steps; t++)
        {
            while (points[k + 1].Step < t) k++;
            var (p, q) = (points[k], points[k + 1]);
            double w = (double)(t - p.Step) / (q.Step - p.Step);
            if ((1 - w) * value(p) + w * value(q) >= threshold) count++;
        }
        return count;
    }
}
