using DiffusionLab.Runtime;

namespace DiffusionLab.Tests.Runtime;

public class BFloat16SpeedTests
{
    [Fact]
    public void TheSpeedUpIsMeasuredOnceAndEveryLaterAskGetsTheSameNumber()
    {
        var (first, source) = BFloat16Speed.OnThisMachine();
        Assert.Equal((first, source), BFloat16Speed.OnThisMachine());
        Assert.True(first is > 0.01 and < 100, $"speed-up {first}");
        Assert.Contains(BFloat16Speed.CacheFile(), source);
        // and the next process reads it from the cache: the same decision in every process on this machine
        Assert.Equal(first, BFloat16Speed.Read(BFloat16Speed.CacheFile(), BFloat16Speed.CacheKey()));
    }

    [Fact]
    public void TheCacheKeepsOneEntryPerMachineStateAndIgnoresAnUnreadableFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"difflab-bf16-{Guid.NewGuid():N}");
        var file = Path.Combine(dir, "bf16-speed.json");
        try
        {
            BFloat16Speed.Write(file, "cpu A; threads 2", 1.7);
            BFloat16Speed.Write(file, "cpu B; threads 2", 0.8);
            Assert.Equal(1.7, BFloat16Speed.Read(file, "cpu A; threads 2"));
            Assert.Equal(0.8, BFloat16Speed.Read(file, "cpu B; threads 2"));
            Assert.Null(BFloat16Speed.Read(file, "cpu C; threads 2"));
            File.WriteAllText(file, "{ not json");
            Assert.Null(BFloat16Speed.Read(file, "cpu A; threads 2")); // measured again, not a crash
            BFloat16Speed.Write(file, "cpu A; threads 2", 1.2);
            Assert.Equal(1.2, BFloat16Speed.Read(file, "cpu A; threads 2"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Bf16IsUsedOnlyWhereItMeasuredFaster()
    {
        if (Environment.GetEnvironmentVariable("DIFFLAB_BF16") is "0" or "1") return; // forced either way: nothing measured decides
        string? why = MixedPrecision.BFloat16Unavailable();
        if (why is null) Assert.True(BFloat16Speed.OnThisMachine().Speedup >= BFloat16Speed.Required);
        else if (NativeRuntime.MkldnnEnabled && CpuInfo.Host.HasBFloat16Arithmetic && NativeRuntime.OneDnnBFloat16Checked
                 && Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null)
            Assert.Contains("fp32's speed in bf16", why);
    }
}
