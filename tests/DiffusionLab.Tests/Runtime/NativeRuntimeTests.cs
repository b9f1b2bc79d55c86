using DiffusionLab.Runtime;
using TorchSharp;

namespace DiffusionLab.Tests.Runtime;

public class NativeRuntimeTests
{
    [Fact]
    public void DescribeNamesThreadsAllocatorAndWhyOneDnnIsOnOrOff()
    {
        NativeRuntime.Configure();
        var line = NativeRuntime.Describe();
        Assert.Contains($"torch threads {torch.get_num_threads()}", line);
        Assert.Contains(NativeRuntime.MkldnnEnabled ? "oneDNN on" : "oneDNN off", line);
        // unless forced by DIFFLAB_MKLDNN, the start-up self-check decided
        Assert.Matches(@"\((self-check passed on NaN-filled memory|self-check passed only on zeroed memory: allocations zero-filled|self-check failed: ATen kernels|DIFFLAB_MKLDNN=[01])\)", line);
        if (NativeRuntime.MkldnnReason.StartsWith("self-check passed")) Assert.True(NativeRuntime.MkldnnEnabled);
        Assert.Equal(NativeRuntime.MkldnnReason.Contains("zero-filled"), NativeRuntime.Fill == AllocationFill.Zero);
        Assert.Contains(CpuInfo.Host.Describe(), NativeRuntime.DescribeWithCpu());
    }

    [Fact]
    public void AllocationFillMakesUnwrittenMemoryNaNOrZeroEveryTime()
    {
        NativeRuntime.Configure();
        var before = NativeRuntime.Fill;
        try
        {
            // what a kernel that reads memory it never wrote would see: c10's fill, in every new buffer
            Assert.True(NativeRuntime.SetAllocationFill(AllocationFill.Junk));
            for (int i = 0; i < 3; i++)
            {
                using var fresh = torch.empty(1 << 16);
                Assert.True(fresh.isnan().all().item<bool>());
            }
            Assert.True(NativeRuntime.SetAllocationFill(AllocationFill.Zero));
            using var zeroed = torch.empty(1 << 16);
            Assert.Equal(0f, zeroed.abs().max().item<float>());
        }
        finally
        {
            NativeRuntime.SetAllocationFill(before);
        }
        Assert.Equal(before, NativeRuntime.Fill);
    }

    [Fact]
    public void TheOneDnnVerdictIsTheSameEveryTimeAndLeavesTheProcessAsItWas()
    {
        NativeRuntime.Configure();
        bool enabled = NativeRuntime.MkldnnEnabled;
        var fill = NativeRuntime.Fill;
        var first = NativeRuntime.CheckOneDnn();
        var second = NativeRuntime.CheckOneDnn();
        Assert.Equal(first, second); // NaN-filled buffers make a read of unwritten memory show every time, not by chance
        Assert.Equal(fill, NativeRuntime.Fill);
        Assert.Equal(enabled, NativeRuntime.MkldnnSwitch());
        if (NativeRuntime.MkldnnReason.StartsWith("self-check")) Assert.Equal(first.Verdict != OneDnnVerdict.Wrong, enabled);
        if (!CpuInfo.Host.HasBFloat16Arithmetic) Assert.False(first.BFloat16Exact); // not checked where it would be emulated
    }

    [Fact]
    public void MemoryReportsResidentAndPeakBytes()
    {
        // 64 MiB of tensor memory, touched: it must show in the peak (the GC does not see native memory)
        using var big = torch.ones(16L << 20);
        var (rss, peak) = NativeRuntime.Memory();
        Assert.True(rss > 64L << 20, $"RSS {rss}");
        Assert.True(peak >= rss);
        Assert.Matches(@"^RSS \d+ MiB \(peak \d+ MiB\)$", NativeRuntime.DescribeMemory());
    }
}
