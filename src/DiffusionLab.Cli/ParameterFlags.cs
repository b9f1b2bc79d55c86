namespace DiffusionLab.Cli;

/// <summary>
/// Says a library error in the command line's words: each parameter the message names (in backticks, see
/// <see cref="DiffusionLabException"/>) becomes the flag of the running verb that sets it — its kebab-case spelling
/// (<c>batchSize</c>, <c>BatchSize</c> → <c>--batch-size</c>) or a known alias (<c>jumpLength</c> → <c>--jump</c>) — and
/// a parameter that verb has no flag for is named as the verb that sets it, or else left as the library's name.
/// </summary>
public static class ParameterFlags
{
    // Library names whose flag is not their kebab-case spelling.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["jumpLength"] = "--jump",
        ["resamples"] = "--resample",
        ["McgScale"] = "--mcg",
        ["labels"] = "--class",
        ["target"] = "--class",
        ["LearningRate"] = "--lr",
        ["EmaDecay"] = "--ema",
        ["WarmupSteps"] = "--warmup",
        ["folder"] = "--out",
        ["runDir"] = "--out",
        ["noiseSchedule"] = "--noisy",
        ["BridgeSigma"] = "--sigma",
    };

    // Parameters set by another verb than the one that failed: how to reach them.
    private static readonly Dictionary<string, string> Elsewhere = new(StringComparer.Ordinal)
    {
        ["noiseSchedule"] = "'difflab classifier train --noisy'",
        ["features"] = "a feature network",
    };

    public static string Render(DiffusionLabException error, Command command)
    {
        var flags = new HashSet<string>(command.Options.SelectMany(o => o.Aliases.Append(o.Name)), StringComparer.Ordinal);
        return error.Render(name =>
        {
            var kebab = "--" + Kebab(name[(name.LastIndexOf('.') + 1)..]);
            if (flags.Contains(kebab)) return kebab;
            if (Aliases.TryGetValue(name, out var alias) && flags.Contains(alias)) return alias;
            return Elsewhere.TryGetValue(name, out var where) ? where : name;
        });
    }

    /// <summary><c>BatchSize</c>, <c>batchSize</c> → <c>batch-size</c>; <c>ClipX0</c> → <c>clip-x0</c>; <c>PUncond</c> → <c>p-uncond</c>.</summary>
    public static string Kebab(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
