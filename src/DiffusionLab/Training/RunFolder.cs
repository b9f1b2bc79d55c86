using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffusionLab.Training;

/// <summary>
/// The rules every run folder follows (image and 2-D runs alike): a fresh run refuses a folder that already holds a
/// trained one; <c>--resume</c> needs the folder's config and the same configuration, except for the fields that only say
/// how long to train — so a finished run can be extended (<c>--resume --epochs 30</c>) — and a refusal names the fields
/// that differ, with both values. The config is written atomically.
/// </summary>
public static class RunFolder
{
    /// <summary>
    /// Reads <paramref name="configFile"/> of a run folder: a missing folder or file, malformed JSON and bad fields are
    /// one-line errors naming the file (<paramref name="validate"/> gets the path, so a bad field is named as that file's
    /// field, not as an option the user never gave).
    /// </summary>
    public static TConfig ReadConfig<TConfig>(string runDir, string configFile, JsonSerializerOptions json, Action<TConfig, string> validate) where TConfig : class
    {
        if (!Directory.Exists(runDir)) throw new DiffusionLabException($"run or model folder not found: {runDir}");
        var path = Path.Combine(runDir, configFile);
        if (!File.Exists(path)) throw new DiffusionLabException($"not a run or model folder (no {configFile}): {runDir}");
        TConfig config;
        try { config = JsonSerializer.Deserialize<TConfig>(File.ReadAllText(path), json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new DiffusionLabException($"{path} is not a valid run configuration ({e.Message.Split('\n')[0]})"); }
        validate(config, path);
        return config;
    }

    /// <summary>
    /// Checks <paramref name="runDir"/> for a fresh or resumed run of <paramref name="config"/> and writes its config file.
    /// <paramref name="lengthFields"/> are the JSON paths (e.g. "Epochs", "Training.Steps") that may differ on resume.
    /// </summary>
    public static void Prepare<TConfig>(string runDir, string configFile, TConfig config, JsonSerializerOptions json, bool resume, params string[] lengthFields)
    {
        Directory.CreateDirectory(runDir);
        var configPath = Path.Combine(runDir, configFile);
        string wanted = JsonSerializer.Serialize(config, json);
        if (resume)
        {
            if (!File.Exists(configPath)) throw new DiffusionLabException($"nothing to resume in {runDir} (no {configFile})");
            JsonNode? saved;
            try { saved = JsonNode.Parse(File.ReadAllText(configPath)); }
            catch (JsonException e) { throw new DiffusionLabException($"{configPath} is not valid JSON ({e.Message.Split('\n')[0]})"); }
            var differences = Differences(saved, JsonNode.Parse(wanted), "").Where(d => !lengthFields.Contains(d.Path, StringComparer.OrdinalIgnoreCase)).ToList();
            if (differences.Count > 0)
                throw new DiffusionLabException($"{runDir} was trained with a different configuration: " +
                    string.Join("; ", differences.Take(4).Select(d => $"{d.Path} is {d.Saved} there, {d.Wanted} now")) +
                    (differences.Count > 4 ? $" (and {differences.Count - 4} more)" : "") + "; resume it with the same options");
        }
        else if (File.Exists(Path.Combine(runDir, Trainer.CheckpointFile)))
            throw new DiffusionLabException($"{runDir} already holds a trained run (step {Trainer.CheckpointStep(Path.Combine(runDir, Trainer.CheckpointFile))}); pass `resume` to continue or extend it, or choose another `runDir`");
        AtomicFile.WriteAllText(configPath, wanted);
    }

    /// <summary>The leaf fields where two JSON documents differ, as dotted paths with both values.</summary>
    public static IEnumerable<(string Path, string Saved, string Wanted)> Differences(JsonNode? saved, JsonNode? wanted, string path)
    {
        if (saved is JsonObject a && wanted is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
                foreach (var d in Differences(a[key], b[key], path.Length == 0 ? key : $"{path}.{key}")) yield return d;
        }
        else if (!JsonNode.DeepEquals(saved, wanted))
            yield return (path, saved?.ToJsonString() ?? "absent", wanted?.ToJsonString() ?? "absent");
    }
}
