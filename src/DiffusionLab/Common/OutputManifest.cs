using System.Text.Json;

namespace DiffusionLab;

/// <summary>
/// What a verb wrote into its output folder (<c>OUT/manifest.json</c>: the verb, every file it wrote and which of them are
/// the samples, relative to OUT), so that
/// a folder never mixes two runs: a verb refuses a folder that already holds outputs unless told to overwrite, and then
/// deletes only the files a manifest lists (or the verb's own file names); the evaluators read only the listed images.
/// </summary>
public sealed record OutputManifest(string Verb, IReadOnlyList<string> Files, IReadOnlyList<string> Images)
{
    public const string FileName = "manifest.json";

    /// <summary>The manifest of <paramref name="folder"/>, or null when it has none (or an unreadable one).</summary>
    public static OutputManifest? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var verb = doc.RootElement.GetProperty("verb").GetString() ?? "";
            List<string> List(string name) => doc.RootElement.GetProperty(name).EnumerateArray().Select(f => f.GetString() ?? "").Where(f => f.Length > 0).ToList();
            return new OutputManifest(verb, List("files"), List("images"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DiffusionLabException($"{path} is not a DiffusionLab manifest ({e.Message.Split('\n')[0]}); remove it or choose another folder");
        }
    }

    /// <summary>Writes the manifest atomically.</summary>
    public void Write(string folder) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(new { verb = Verb, files = Files, images = Images }, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>
    /// Makes <paramref name="folder"/> ready for a new run of <paramref name="verb"/>: if it already holds outputs — a
    /// manifest, or any of <paramref name="ownNames"/> (files, or folders with files in them) — it is refused unless
    /// <paramref name="overwrite"/>, which deletes the files the manifest lists (else the own names) and nothing else.
    /// </summary>
    public static void Prepare(string folder, string verb, bool overwrite, params string[] ownNames)
    {
        var manifest = Read(folder);
        var present = ownNames.Select(n => Path.Combine(folder, n))
            .Where(p => File.Exists(p) || (Directory.Exists(p) && Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Any())).ToList();
        if (manifest is null && present.Count == 0) return;
        if (!overwrite)
        {
            string what = manifest is not null ? $"{manifest.Files.Count} files from an earlier '{manifest.Verb}'" : string.Join(", ", present.Select(Path.GetFileName));
            throw new DiffusionLabException($"{folder} already holds outputs ({what}); add `overwrite` to replace them, or choose another `folder`");
        }
        var full = Path.GetFullPath(folder);
        var emptied = new HashSet<string>();
        foreach (var relative in manifest?.Files ?? [])
        {
            var path = Path.GetFullPath(Path.Combine(folder, relative));
            if (!path.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path)) continue; // never outside the folder
            File.Delete(path);
            if (Path.GetDirectoryName(path) is { } parent && parent != full) emptied.Add(parent);
        }
        // the verb's own subfolders go too once nothing else is in them (a user's file in one keeps it)
        foreach (var dir in emptied.OrderByDescending(d => d.Length))
            if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
        if (manifest is null)
            foreach (var p in present)
            {
                if (File.Exists(p)) File.Delete(p);
                else Directory.Delete(p, recursive: true);
            }
        File.Delete(Path.Combine(folder, FileName));
    }
}
