using System.Text.Json;
using DiffusionLab.Benchmarks;
using DiffusionLab.Runtime;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab bench</c>: peaks and DiffusionLab's own workloads, median/min/max over repeats.</summary>
public static class BenchCommand
{
    public static Command Build(TextWriter output)
    {
        var only = new Option<string?>("--only") { Description = $"Comma-separated cases (default: all): {string.Join(", ", PerformanceBench.Cases)}." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per case (after warm-up).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up repeats per case.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: DIFFLAB_THREADS or the number of cores)." };
        var quick = new Option<bool>("--quick") { Description = "Tiny sizes: checks that every case runs, in seconds (the figures mean nothing)." };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file (benchmarks/peers/compare.py reads it)." };
        var seed = new Option<long>("--seed") { Description = "Random seed of the inputs and weights.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "Torch device: cpu (default) or cuda[:N] where a CUDA build is present.", DefaultValueFactory = _ => "cpu" };
        var precision = CommonOptions.Precision("the U-Net cases (and the matmul peak)");
        var cmd = new Command("bench", "Measure matmul and 3×3-conv GFLOP/s, U-Net training img/s (the CS180 and attention U-Nets), guided sampling speed and the 2-D MLP's training and sampling, as median/min/max over repeats.");
        foreach (var o in new Option[] { only, repeats, warmup, threads, quick, json, seed, device, precision }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(threads) is int t)
            {
                if (t < 1) throw new DiffusionLabException($"--threads must be at least 1, got {t}");
                NativeRuntime.Configure(t);
            }
            var options = (parse.GetValue(quick) ? BenchOptions.Quick : new BenchOptions()) with
            {
                Repeats = parse.GetValue(repeats),
                Warmup = parse.GetValue(warmup),
                Seed = parse.GetValue(seed),
                Precision = CommonOptions.ResolvePrecision(parse, precision, output),
                Only = parse.GetValue(only) is { } list ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null,
            };
            var dev = Devices.Resolve(parse.GetValue(device)!);
            output.WriteLine($"difflab bench: {NativeRuntime.DescribeWithCpu()}; {Environment.ProcessorCount} cores; median [min – max] of {options.Repeats} repeats after {options.Warmup} warm-up; {options.Precision}");
            var results = PerformanceBench.Run(options, dev, r => output.WriteLine(Format(r)));
            if (parse.GetValue(json) is { } path)
            {
                var doc = new
                {
                    implementation = "DiffusionLab",
                    threads = NativeRuntime.Threads,
                    allocator = NativeRuntime.AllocatorTuned ? "tuned" : "default",
                    cpu = Runtime.CpuInfo.Host.Describe(),
                    onednn = NativeRuntime.Describe(),
                    precision = options.Precision,
                    results = results.Select(r => new { name = r.Name, unit = r.Unit, median = r.Median, min = r.Min, max = r.Max, repeats = r.Repeats, lower_is_better = r.LowerIsBetter, gflops = r.Gflops, percent_of_peak = r.PercentOfPeak, detail = r.Detail }),
                };
                AtomicFile.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
                output.WriteLine($"wrote {path}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>"train-d64        147.2 img/s [140.1 – 150.3]  236.0 GFLOP/s = 61 % of matmul peak  (batch 128, …)".</summary>
    public static string Format(BenchResult r)
    {
        var s = string.Create(CultureInfo.InvariantCulture, $"{r.Name,-16} {Number(r.Median),9} {r.Unit,-8} [{Number(r.Min)} – {Number(r.Max)}]");
        if (r.Gflops is double g && r.Name != "matmul" && r.Name != "conv3x3")
            s += FormattableString.Invariant($"  {g:F1} GFLOP/s") + (r.PercentOfPeak is double p ? FormattableString.Invariant($" = {p:F0} % of matmul peak") : "");
        return s + (r.Detail.Length > 0 ? $"  ({r.Detail})" : "");
    }

    private static string Number(double v) => v.ToString(v >= 100 ? "F1" : v >= 1 ? "F2" : "F4", CultureInfo.InvariantCulture);
}
