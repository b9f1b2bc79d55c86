using System.Globalization;
using System.Text.Json;

namespace DiffusionLab.Runtime;

/// <summary>
/// Small JSON files of measurements that hold for one machine state (CPU, threads, oneDNN), kept in the user's cache
/// folder — <c>$DIFFLAB_CACHE</c>, else <c>$XDG_CACHE_HOME/difflab</c> or <c>~/.cache/difflab</c> — so that every later
/// process on the machine decides the same way and a run's numbers do not depend on a timing. Each file maps a key (what
/// the measurement depends on) to an object of numbers and flags, stamped with the time it was measured.
/// </summary>
public static class MachineCache
{
    /// <summary>What every machine measurement depends on: the CPU, the thread count and oneDNN's state.</summary>
    public static string MachineKey() => $"{CpuInfo.Host.Describe()}; threads {NativeRuntime.Threads}; oneDNN {(NativeRuntime.MkldnnEnabled ? "on" : "off")}, fill {NativeRuntime.Fill}; ISA cap {Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "none"}";

    /// <summary>The path of the cache file <paramref name="name"/>.</summary>
    public static string File(string name)
    {
        string? dir = Environment.GetEnvironmentVariable("DIFFLAB_CACHE");
        if (string.IsNullOrEmpty(dir))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            dir = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "difflab");
        }
        return Path.Combine(dir, name);
    }

    /// <summary>The entry <paramref name="key"/> of <paramref name="file"/>, or null where there is none or the file cannot be read (measure again).</summary>
    public static JsonElement? Read(string file, string key)
    {
        try
        {
            if (!System.IO.File.Exists(file)) return null;
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(file));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var entry) && entry.ValueKind == JsonValueKind.Object
                ? entry.Clone() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>Sets the entry <paramref name="key"/> of <paramref name="file"/> to <paramref name="values"/> plus the time
    /// (atomically; other entries are kept). A cache that cannot be written is not an error: the next process measures again.</summary>
    public static void Write(string file, string key, IReadOnlyDictionary<string, object> values)
    {
        try
        {
            var entries = new Dictionary<string, object>();
            try
            {
                if (System.IO.File.Exists(file))
                    foreach (var p in JsonDocument.Parse(System.IO.File.ReadAllText(file)).RootElement.EnumerateObject()) entries[p.Name] = p.Value.Clone();
            }
            catch (JsonException) { }
            var entry = new Dictionary<string, object>(values) { ["measured"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) };
            entries[key] = entry;
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            AtomicFile.WriteAllText(file, JsonSerializer.Serialize(entries, new JsonSerializerOptions { WriteIndented = true }));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
