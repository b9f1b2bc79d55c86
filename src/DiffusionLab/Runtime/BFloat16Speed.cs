namespace DiffusionLab.Runtime;

/// <summary>
/// How fast bfloat16 mixed precision is against float32 on this machine, measured rather than assumed from CPU flags:
/// AVX-512 BF16 doubles the arithmetic per instruction, but whether that beats float32 depends on how many vector units
/// issue it (on an Intel family 6 model 207 VM without AMX a bf16 U-Net step was 0.9× fp32; on AMD family 25 with AVX-512
/// BF16, 1.7×). The measurement is a U-Net-like block — two 3×3 convolutions (one strided), a stride-2 4×4 transposed
/// convolution, batch norms and GELUs on [32, 64, 28, 28], forward and backward — timed alternately in both precisions
/// (about 1.5 s). The result is kept per CPU, thread count and oneDNN state in the user's cache folder (<see cref="MachineCache"/>:
/// <c>bf16-speed.json</c>), so that every later process
/// on the machine decides the same way and a run's numbers do not depend on a timing.
/// </summary>
public static class BFloat16Speed
{
    /// <summary>bf16 must be at least this much faster than fp32 to be used (a margin against timing noise).</summary>
    public const double Required = 1.1;

    private static readonly object Gate = new();
    private static (double Speedup, string Source)? _known;

    /// <summary>The speed of bf16 relative to fp32 (&gt; 1: faster), from the cache or measured now, and where it came from.</summary>
    public static (double Speedup, string Source) OnThisMachine()
    {
        lock (Gate)
        {
            if (_known is { } known) return known; // one process, one answer (and the same words for it)
            string file = CacheFile(), key = CacheKey();
            if (Read(file, key) is double cached) return (_known = (cached, $"measured earlier, cached in {file}")).Value;
            double measured = Measure();
            Write(file, key, measured);
            return (_known = (measured, $"measured at start-up, cached in {file}")).Value;
        }
    }

    /// <summary>Times the block in both precisions, alternating, <paramref name="rounds"/> times; the median ratio fp32/bf16.</summary>
    public static double Measure(int rounds = 4)
    {
        NativeRuntime.Configure();
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(7);
        var block = nn.Sequential(
            nn.Conv2d(64, 64, 3, padding: 1), nn.BatchNorm2d(64), nn.GELU(),
            nn.Conv2d(64, 64, 3, stride: 2, padding: 1), nn.BatchNorm2d(64), nn.GELU(),
            nn.ConvTranspose2d(64, 64, 4, stride: 2, padding: 1), nn.BatchNorm2d(64), nn.GELU(),
            nn.Conv2d(64, 64, 3, padding: 1));
        var x = torch.randn([32, 64, 28, 28], generator: generator);
        double Time(string precision)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var step = torch.NewDisposeScope();
            Tensor y;
            using (MixedPrecision.Enter(precision)) y = MixedPrecision.Call(block, x);
            MixedPrecision.Output(y).square().mean().backward();
            return clock.Elapsed.TotalSeconds;
        }
        Time("fp32"); Time("bf16"); // warm-up: oneDNN creates its kernels on first use
        var ratios = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            double fp32 = Time("fp32"), bf16 = Time("bf16");
            ratios.Add(fp32 / bf16);
        }
        ratios.Sort();
        return rounds % 2 == 1 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
    }

    /// <summary>What the measurement depends on: the machine state (<see cref="MachineCache.MachineKey"/>).</summary>
    internal static string CacheKey() => MachineCache.MachineKey();

    internal static string CacheFile() => MachineCache.File("bf16-speed.json");

    internal static double? Read(string file, string key) =>
        MachineCache.Read(file, key) is { } entry && entry.TryGetProperty("speedup", out var v) && v.TryGetDouble(out var d) && d > 0 ? d : null;

    internal static void Write(string file, string key, double speedup) =>
        MachineCache.Write(file, key, new Dictionary<string, object> { ["speedup"] = speedup });
}
