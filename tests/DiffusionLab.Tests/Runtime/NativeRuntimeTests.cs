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
        Assert.Matches(@"\((self-check passed|self-check failed: ATen kernels|DIFFLAB_MKLDNN=[01])\)", line);
        if (NativeRuntime.MkldnnReason == "self-check passed") Assert.True(NativeRuntime.MkldnnEnabled);
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
