using DiffusionLab.Benchmarks;
using DiffusionLab.Tests.Cli;

namespace DiffusionLab.Tests.Benchmarks;

public class BenchTests
{
    [Fact]
    public void SummaryIsMedianMinAndMax()
    {
        Assert.Equal((2.0, 1.0, 9.0), Timing.Summary([9, 1, 2]));
        Assert.Equal((2.5, 1.0, 9.0), Timing.Summary([3, 9, 1, 2])); // even count: mean of the middle two
        var rate = Timing.Rate("r", "img/s", 10, [1.0, 2.0, 0.5]);   // 10, 5 and 20 per second
        Assert.Equal((10.0, 5.0, 20.0), (rate.Median, rate.Min, rate.Max));
        var time = Timing.Time("t", "s/step", 2, [1.0, 2.0, 0.5]);    // 0.5, 1 and 0.25 s per step
        Assert.Equal((0.5, 0.25, 1.0), (time.Median, time.Min, time.Max));
        Assert.True(time.LowerIsBetter);
    }

    [Fact]
    public void EveryCaseRunsAndReportsConsistentFigures()
    {
        var seen = new List<string>();
        var results = PerformanceBench.Run(BenchOptions.Quick, onResult: r => seen.Add(r.Name));
        // a phases case reports its three phases as three results
        var expected = PerformanceBench.Cases.SelectMany(c => c.StartsWith("phases-", StringComparison.Ordinal) ? new[] { $"{c}-forward", $"{c}-backward", $"{c}-update" } : [c]).ToList();
        Assert.Equal(expected, results.Select(r => r.Name));
        Assert.Equal(expected, seen);
        foreach (var r in results)
        {
            Assert.True(r.Min > 0 && double.IsFinite(r.Max), r.Name);
            Assert.InRange(r.Median, r.Min, r.Max);
            Assert.Equal(BenchOptions.Quick.Repeats, r.Repeats);
        }
        // the U-Net figures carry their arithmetic rate and its share of the matmul peak measured in the same run
        double peak = results.Single(r => r.Name == "matmul").Gflops!.Value;
        foreach (var r in results.Where(r => r.Name.StartsWith("train", StringComparison.Ordinal) || r.Name.StartsWith("guided", StringComparison.Ordinal)
                                             || (r.Name.StartsWith("phases", StringComparison.Ordinal) && !r.Name.EndsWith("-update", StringComparison.Ordinal))))
            Assert.Equal(100 * r.Gflops!.Value / peak, r.PercentOfPeak!.Value, 9);
        foreach (var phases in new[] { "phases-d64", "phases-unet32" })
        {
            Assert.Null(results.Single(r => r.Name == $"{phases}-update").Gflops); // Adam + EMA: no convolution arithmetic to count
            // backward does twice the forward's arithmetic: its GFLOP/s figure is 2 × forward FLOPs over its own time
            var fw = results.Single(r => r.Name == $"{phases}-forward");
            var bw = results.Single(r => r.Name == $"{phases}-backward");
            Assert.Equal(2 * fw.Gflops!.Value * fw.Median / bw.Median, bw.Gflops!.Value, 6);
        }
        // the attention U-Net clips its gradients, the CS180 U-Net's recipe does not
        Assert.StartsWith("clipping + Adam + EMA", results.Single(r => r.Name == "phases-unet32-update").Detail);
        Assert.StartsWith("Adam + EMA", results.Single(r => r.Name == "phases-d64-update").Detail);
    }

    [Fact]
    public void UnknownCaseIsAClearError()
    {
        var e = Assert.Throws<DiffusionLabException>(() => PerformanceBench.Run(BenchOptions.Quick with { Only = ["matmul", "gpu"] }));
        Assert.Contains("unknown benchmark 'gpu'", e.Message);
    }

    [Fact]
    public void CliPrintsThreadsAndWritesJson()
    {
        var dir = CliRunner.Temp();
        var json = Path.Combine(dir, "bench.json");
        var (code, output, err) = CliRunner.Run("bench", "--quick", "--only", "matmul,train-d32", "--repeats", "2", "--json", json);
        Assert.True(code == 0, err);
        Assert.Contains("torch threads", output);
        Assert.Contains("train-d32", output);
        Assert.Contains("% of matmul peak", output);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("results").GetArrayLength());
        // bf16 where it pays on this machine, else one line saying why and an fp32 run (Runtime/MixedPrecision.Resolve)
        (code, output, err) = CliRunner.Run("bench", "--quick", "--only", "matmul", "--repeats", "2", "--precision", "bf16", "--json", json);
        Assert.True(code == 0, err);
        bool declined = DiffusionLab.Runtime.MixedPrecision.BFloat16Unavailable() is not null;
        Assert.Equal(declined, output.Contains("--precision bf16 declined"));
        using (var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json))) Assert.Equal(declined ? "fp32" : "bf16", run.RootElement.GetProperty("precision").GetString());
        // forced (DIFFLAB_BF16=1, how the slow paths are measured): the U-Net cases run in bf16 against a bf16 peak
        Environment.SetEnvironmentVariable("DIFFLAB_BF16", "1");
        try { (code, output, err) = CliRunner.Run("bench", "--quick", "--only", "matmul,train-d32,guided-step-d64,train-unet32,guided-step-unet32", "--repeats", "2", "--precision", "bf16", "--json", json); }
        finally { Environment.SetEnvironmentVariable("DIFFLAB_BF16", null); }
        Assert.True(code == 0, err);
        Assert.Contains("bf16 mixed precision", output);
        Assert.Contains("guided-step-unet32", output);
        Assert.Contains("64×64 bf16", output); // the peak the percentages refer to is a bf16 matmul
        using (var mixed = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json))) Assert.Equal("bf16", mixed.RootElement.GetProperty("precision").GetString());
        Assert.Equal(1, CliRunner.Run("bench", "--quick", "--only", "matmul", "--precision", "fp8").Code);
        Assert.Equal(2, CliRunner.Run("bench", "--frobnicate").Code);
        Assert.Equal(1, CliRunner.Run("bench", "--quick", "--only", "nope").Code);
    }
}
