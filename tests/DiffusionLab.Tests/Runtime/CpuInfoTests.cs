using DiffusionLab.Runtime;

namespace DiffusionLab.Tests.Runtime;

public class CpuInfoTests
{
    // Excerpts of /proc/cpuinfo as the three CPUs of this VM kind report them (first processor only matters).
    private const string Zen5 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC 9B45\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vp2intersect\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n";
    private const string Zen3 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu avx avx2 fma\n";
    private const string Emerald = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: avx2 avx512f avx512_bf16 avx512_fp16\n";

    [Fact]
    public void ParsesVendorFamilyModelAndTheBFloat16Flags()
    {
        var zen5 = CpuInfo.Parse(Zen5);
        Assert.Equal(("AuthenticAMD", 26, 2), (zen5.Vendor, zen5.Family, zen5.Model));
        Assert.True(zen5.HasBFloat16Arithmetic);
        Assert.Equal("AMD family 26 model 2 (AMD EPYC 9B45), AVX-512 BF16", zen5.Describe());
        var zen3 = CpuInfo.Parse(Zen3);
        Assert.False(zen3.HasBFloat16Arithmetic);
        Assert.Equal("AVX2", zen3.VectorIsa);
        Assert.Equal("Intel family 6 model 207 (Intel(R) Xeon(R) Processor), AVX-512 BF16", CpuInfo.Parse(Emerald).Describe());
    }

    [Fact]
    public void UnknownTextGivesUnknownFieldsNotAnError()
    {
        var none = CpuInfo.Parse("");
        Assert.Equal(("unknown", -1, -1), (none.Vendor, none.Family, none.Model));
        Assert.False(none.HasBFloat16Arithmetic);
        Assert.Equal("SSE", none.VectorIsa);
    }

    [Fact]
    public void TheHostIsDescribed()
    {
        var host = CpuInfo.Host;
        if (OperatingSystem.IsLinux()) Assert.NotEqual("unknown", host.Vendor);
        Assert.Contains("family", host.Describe());
    }
}
