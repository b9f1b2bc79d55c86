using System.Text.RegularExpressions;

namespace DiffusionLab.Tests.Architecture;

/// <summary>
/// The dependency rule of docs/ARCHITECTURE.md, checked on the library's sources: the ground floor (schedules, SDEs,
/// samplers, metrics) knows nothing of networks, plotting, runs or the command line, and no two library folders
/// depend on each other in a cycle. A folder depends on another when one of its files has a <c>using</c> of it or
/// names one of the types that folder defines (qualified, e.g. <c>Models.DdpmUNet</c>).
/// </summary>
public partial class LayeringTests
{
    /// <summary>What each ground-floor folder must never reference.</summary>
    private static readonly Dictionary<string, string[]> Forbidden = new()
    {
        ["Schedules"] = ["Models", "Denoisers", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks"],
        ["Sde"] = ["Models", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks"],
        ["Samplers"] = ["Models", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks", "Conditioning"],
        ["Bridges"] = ["Models", "Denoisers", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks", "Samplers", "Data"],
        ["Metrics"] = ["Models", "Denoisers", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks"],
        ["Common"] = ["Models", "Denoisers", "Plotting", "Runs", "Training", "Studies", "Evaluation", "Benchmarks", "Samplers", "Schedules", "Sde"],
    };

    internal static string LibraryRoot() => RepositoryPaths.Of("src/DiffusionLab");

    [GeneratedRegex(@"^namespace\s+DiffusionLab(?:\.(\w+))?", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();
    [GeneratedRegex(@"^using\s+(?:static\s+)?DiffusionLab\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();
    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+(\w+)")]
    private static partial Regex TypeDeclaration();
    [GeneratedRegex(@"(?<![\w.])(\w+)\.(\w+)")]
    private static partial Regex Qualified();

    /// <summary>Folder → the folders it depends on, with one file that shows it.</summary>
    public static Dictionary<string, Dictionary<string, string>> Graph(string root)
    {
        var files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Path: f, Text: File.ReadAllText(f))).ToList();
        string FolderOf(string text) => NamespaceLine().Match(text) is { Success: true } m && m.Groups[1].Success ? m.Groups[1].Value : "Common";
        var types = files.GroupBy(f => FolderOf(f.Text))
            .ToDictionary(g => g.Key, g => g.SelectMany(f => TypeDeclaration().Matches(f.Text).Select(m => m.Groups[1].Value)).ToHashSet());
        var graph = types.Keys.ToDictionary(k => k, _ => new Dictionary<string, string>());
        foreach (var (path, text) in files)
        {
            var from = FolderOf(text);
            var code = Regex.Replace(Regex.Replace(text, @"//.*", ""), "\"(?:\\\\.|[^\"\\\\])*\"", "\"\"");
            var used = UsingLine().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
            foreach (Match m in Qualified().Matches(code))
                if (types.TryGetValue(m.Groups[1].Value, out var defined) && defined.Contains(m.Groups[2].Value)) used.Add(m.Groups[1].Value);
            foreach (var to in used.Where(u => u != from && types.ContainsKey(u)))
                graph[from].TryAdd(to, Path.GetRelativePath(root, path));
        }
        return graph;
    }

    [Fact]
    public void TheGroundFloorKnowsNothingOfNetworksPlottingRunsOrTheCli()
    {
        var graph = Graph(LibraryRoot());
        var violations = Forbidden.SelectMany(rule => graph.GetValueOrDefault(rule.Key, [])
            .Where(edge => rule.Value.Contains(edge.Key)).Select(edge => $"{rule.Key} → {edge.Key} ({edge.Value})")).ToList();
        Assert.True(violations.Count == 0, "the ground floor reaches up: " + string.Join("; ", violations));
    }

    /// <summary>Every folder that can reach itself, with the path that shows it.</summary>
    public static List<string> Cycles(Dictionary<string, Dictionary<string, string>> graph)
    {
        var cycles = new List<string>();
        foreach (var start in graph.Keys)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<(string Node, string Path)>(graph[start].Keys.Select(k => (k, $"{start} → {k}")));
            while (stack.Count > 0)
            {
                var (node, trail) = stack.Pop();
                if (node == start) { cycles.Add(trail); break; }
                if (!seen.Add(node)) continue;
                foreach (var next in graph.GetValueOrDefault(node, []).Keys) stack.Push((next, $"{trail} → {next}"));
            }
        }
        return cycles;
    }

    [Fact]
    public void NoTwoLibraryFoldersDependOnEachOtherInACycle()
    {
        var cycles = Cycles(Graph(LibraryRoot()));
        Assert.True(cycles.Count == 0, "dependency cycles: " + string.Join("; ", cycles));
    }

    [Fact]
    public void TheCheckSeesAReferenceAndACycle()
    {
        // the graph builder on a tiny tree: a qualified name counts, a property of the same spelling does not
        var root = Directory.CreateTempSubdirectory("difflab-arch").FullName;
        void Write(string folder, string text)
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
            File.WriteAllText(Path.Combine(root, folder, folder + ".cs"), text);
        }
        Write("Schedules", "namespace DiffusionLab.Schedules;\npublic class Plan { object x = Models.Net.Make(); int n => Images.Count; }");
        Write("Models", "using DiffusionLab.Schedules;\nnamespace DiffusionLab.Models;\npublic class Net { }");
        Write("Images", "namespace DiffusionLab.Images;\npublic class Run { int n => Images.Count; }");
        var graph = Graph(root);
        Assert.Equal("Schedules/Schedules.cs", graph["Schedules"]["Models"]);
        Assert.Equal("Models/Models.cs", graph["Models"]["Schedules"]);
        Assert.False(graph["Schedules"].ContainsKey("Images")); // Images.Count is a property, not a type of the Images folder
        Assert.Contains("Schedules → Models → Schedules", Cycles(graph));
    }
}
