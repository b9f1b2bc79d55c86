using System.Diagnostics;

namespace DiffusionLab.Tests.Build;

/// <summary>Output folders hard-link libtorch (1.4 GB) from the NuGet cache instead of copying it into each of them.</summary>
public class OutputSizeTests
{
    private static string Stat(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-L", "-c", "%d %i %h", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var s = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return s;
    }

    [Fact]
    public void LibtorchInTheOutputIsTheNuGetCachesFileWhereTheyShareAFileSystem()
    {
        if (!OperatingSystem.IsLinux()) return;
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so");
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } n ? n
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Directory.Exists(cache) ? Directory.GetFiles(cache, "libtorch_cpu.so", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains("linux-x64")) : null;
        if (!File.Exists(output) || cached is null) return; // another layout (a published app, a custom cache): nothing to compare
        var (o, c) = (Stat(output).Split(' '), Stat(cached).Split(' '));
        if (o[0] != c[0]) return; // different file systems: a hard link is impossible and MSBuild copies
        Assert.Equal(c[1], o[1]); // the same inode: no extra 1.4 GB per output folder
    }
}
