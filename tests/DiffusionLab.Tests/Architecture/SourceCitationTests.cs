using System.Text.RegularExpressions;

namespace DiffusionLab.Tests.Architecture;

/// <summary>
/// Comments and messages cite a paper or a course assignment by name; an internal label of this project's work list
/// ("seed 002", "issue 5") means nothing to a reader of the source, so none may appear in the library, the CLI, the
/// tests or the benchmark scripts.
/// </summary>
public partial class SourceCitationTests
{
    [GeneratedRegex(@"\b(?:seeds?\s+0\d\d|issue\s+#?\d+)\b", RegexOptions.IgnoreCase)]
    private static partial Regex InternalLabel();

    [Fact]
    public void NoSourceCitesAnInternalLabel()
    {
        var repo = RepositoryPaths.Root();
        string[] extensions = [".cs", ".py", ".sh"];
        var sep = Path.DirectorySeparatorChar;
        var offenders = new[] { "src", "tests", "benchmarks" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(repo, d), "*", SearchOption.AllDirectories))
            .Where(f => extensions.Contains(Path.GetExtension(f)) && !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}")
                        && Path.GetFileName(f) != nameof(SourceCitationTests) + ".cs") // its own examples
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => InternalLabel().IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(repo, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "internal labels in the sources:\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("// seed 002 B §1.2", true)]
    [InlineData("(seeds 001 and 003)", true)]
    [InlineData("see issue 5", true)]
    [InlineData("// CS180 project 5 part B §1.2", false)]
    [InlineData("--seed 0 --out x", false)]
    public void TheLabelPatternFindsLabelsAndNotSeeds(string line, bool isLabel) => Assert.Equal(isLabel, InternalLabel().IsMatch(line));
}
