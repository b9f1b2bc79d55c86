using System.Globalization;

namespace DiffusionLab;

/// <summary>
/// Refuses work that cannot fit before any of it is done — the memory a batch needs, the disk its outputs need — with the
/// estimate and what is available, instead of failing (or swapping) hours in.
/// </summary>
public static class ResourceCheck
{
    /// <summary>Memory that can be allocated without swapping: MemAvailable of /proc/meminfo on Linux, else what the
    /// runtime reports as available to the process; null when neither is known.</summary>
    public static long? AvailableMemory()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                        && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib))
                        return kib * 1024;
        }
        catch (IOException) { }
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return total > 0 ? total : null;
    }

    /// <summary>Free space on the file system that holds <paramref name="folder"/> (or its nearest existing parent).</summary>
    public static long? FreeDisk(string folder)
    {
        try
        {
            var dir = new DirectoryInfo(Path.GetFullPath(folder));
            while (dir is not null && !dir.Exists) dir = dir.Parent;
            return dir is null ? null : new DriveInfo(dir.FullName).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return null; }
    }

    /// <summary>Throws when <paramref name="bytes"/> (an estimate of what <paramref name="what"/> needs) exceed the
    /// available memory; <paramref name="remedy"/> says what to change.</summary>
    public static void EnsureMemory(double bytes, string what, string remedy, long? available = null)
    {
        available ??= AvailableMemory();
        if (available is long a && bytes > a)
            throw new DiffusionLabException($"{what} needs about {Format(bytes)} of memory (an estimate) but {Format(a)} is available; {remedy}");
    }

    /// <summary>Throws when <paramref name="bytes"/> (an estimate of what <paramref name="what"/> writes) exceed the free
    /// space where <paramref name="folder"/> lives; <paramref name="remedy"/> says what to change.</summary>
    public static void EnsureDisk(string folder, double bytes, string what, string remedy, long? free = null)
    {
        free ??= FreeDisk(folder);
        if (free is long f && bytes > f)
            throw new DiffusionLabException($"{what} needs about {Format(bytes)} of disk (an estimate) but {Format(f)} is free in {folder}; {remedy}");
    }

    /// <summary>"1.5 GB", "820 MB", "3.2 TB" (decimal units).</summary>
    public static string Format(double bytes) =>
        bytes >= 1e15 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e12:N0} TB")
        : bytes >= 1e12 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e12:G3} TB")
        : bytes >= 1e9 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:G3} GB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:G3} MB");
}
