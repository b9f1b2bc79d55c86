namespace DiffusionLab.Runtime;

/// <summary>
/// The CPU this process runs on, as Linux reports it in /proc/cpuinfo: vendor, family, model, name and the instruction-set
/// flags that decide which kernels libtorch's oneDNN takes. Machines of one VM kind differ (AMD family 25 with AVX2 only or
/// AVX-512 BF16, AMD family 26, Intel family 6 with AVX-512 BF16 and FP16), so every measurement names the CPU it ran on.
/// Elsewhere (not Linux) the fields are "unknown" and no flag is set.
/// </summary>
public sealed record CpuInfo(string Vendor, int Family, int Model, string Name, IReadOnlySet<string> Flags)
{
    private static readonly Lazy<CpuInfo> Current = new(() => Parse(ReadCpuInfo()));

    /// <summary>This machine's CPU (read once).</summary>
    public static CpuInfo Host => Current.Value;

    /// <summary>Whether the CPU has bfloat16 arithmetic (AVX-512 BF16 or AMX-BF16), the instructions that make oneDNN's
    /// bfloat16 convolutions faster than float32 ones; without them oneDNN converts to float32 and back (slower).</summary>
    public bool HasBFloat16Arithmetic => Flags.Contains("avx512_bf16") || Flags.Contains("amx_bf16");

    /// <summary>The widest vector instruction set, as oneDNN names its kernels: "AMX", "AVX-512 BF16", "AVX-512", "AVX2" or "SSE".</summary>
    public string VectorIsa =>
        Flags.Contains("amx_bf16") ? "AMX" :
        Flags.Contains("avx512_bf16") ? "AVX-512 BF16" :
        Flags.Contains("avx512f") ? "AVX-512" :
        Flags.Contains("avx2") ? "AVX2" : "SSE";

    /// <summary>"AMD family 26 model 2 (AMD EPYC 9B45), AVX-512 BF16" — for bench headers and RESULTS.</summary>
    public string Describe() => $"{ShortVendor} family {Family} model {Model} ({Name}), {VectorIsa}";

    private string ShortVendor => Vendor switch { "AuthenticAMD" => "AMD", "GenuineIntel" => "Intel", _ => Vendor };

    /// <summary>Reads the first processor's entry of a /proc/cpuinfo text (all cores of a VM report the same CPU).</summary>
    public static CpuInfo Parse(string cpuinfo)
    {
        string vendor = "unknown", name = "unknown";
        int family = -1, model = -1;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in cpuinfo.Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                if (vendor != "unknown") break; // end of the first processor's entry
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "vendor_id": vendor = value; break;
                case "cpu family": family = int.TryParse(value, out var f) ? f : -1; break;
                case "model": model = int.TryParse(value, out var m) ? m : -1; break;
                case "model name": name = value; break;
                case "flags": flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)); break;
            }
        }
        return new CpuInfo(vendor, family, model, name, flags);
    }

    private static string ReadCpuInfo()
    {
        try { return OperatingSystem.IsLinux() ? File.ReadAllText("/proc/cpuinfo") : ""; }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
