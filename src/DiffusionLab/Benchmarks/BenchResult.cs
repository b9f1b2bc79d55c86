using System.Diagnostics;

namespace DiffusionLab.Benchmarks;

/// <summary>
/// One benchmark figure over <see cref="Repeats"/> timed repeats (after untimed warm-up): the median, fastest and slowest
/// value in <see cref="Unit"/> — a rate (higher is better) or a time (lower is better, <see cref="LowerIsBetter"/>).
/// <see cref="Gflops"/> is the median arithmetic rate where the work is counted, and <see cref="PercentOfPeak"/> that
/// rate as a share of the matmul peak measured in the same process.
/// </summary>
public sealed record BenchResult(string Name, string Unit, double Median, double Min, double Max, int Repeats, bool LowerIsBetter = false)
{
    public double? Gflops { get; init; }
    public double? PercentOfPeak { get; init; }
    /// <summary>What was measured, e.g. "batch 128, 2,019,201 parameters".</summary>
    public string Detail { get; init; } = "";
}

/// <summary>Timing helpers: every measurement is untimed warm-up followed by individually timed repeats.</summary>
public static class Timing
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warmup"/> times untimed, then <paramref name="repeats"/> times, returning each repeat's seconds.</summary>
    public static double[] Seconds(Action run, int warmup, int repeats)
    {
        if (repeats < 1) throw new DiffusionLabException($"`repeats` must be at least 1, got {repeats}");
        for (int i = 0; i < warmup; i++) run();
        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return seconds;
    }

    /// <summary>Median, minimum and maximum (the median of an even count is the mean of the middle two).</summary>
    public static (double Median, double Min, double Max) Summary(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        return (median, sorted[0], sorted[^1]);
    }

    /// <summary>A rate figure from per-repeat seconds: <paramref name="workPerRepeat"/> units per second.</summary>
    public static BenchResult Rate(string name, string unit, double workPerRepeat, IReadOnlyList<double> seconds) =>
        FromValues(name, unit, seconds.Select(s => workPerRepeat / s).ToArray(), lowerIsBetter: false);

    /// <summary>A time figure: per-repeat seconds divided by <paramref name="perRepeat"/> (e.g. steps per repeat).</summary>
    public static BenchResult Time(string name, string unit, double perRepeat, IReadOnlyList<double> seconds) =>
        FromValues(name, unit, seconds.Select(s => s / perRepeat).ToArray(), lowerIsBetter: true);

    private static BenchResult FromValues(string name, string unit, double[] values, bool lowerIsBetter)
    {
        var (median, min, max) = Summary(values);
        return new BenchResult(name, unit, median, min, max, values.Length, lowerIsBetter);
    }
}
