using System.CommandLine;
using System.Text.RegularExpressions;
using DiffusionLab.Cli;

namespace DiffusionLab.Tests.Cli;

/// <summary>The library names its parameters; the command line says them as its flags.</summary>
public class ParameterFlagsTests
{
    [Theory]
    [InlineData("BatchSize", "batch-size")]
    [InlineData("batchSize", "batch-size")]
    [InlineData("ClipX0", "clip-x0")]
    [InlineData("PUncond", "p-uncond")]
    [InlineData("steps", "steps")]
    public void KebabCaseOfAParameterName(string name, string kebab) => Assert.Equal(kebab, ParameterFlags.Kebab(name));

    [Fact]
    public void MessageShowsBareNamesAndTheCliItsFlags()
    {
        var e = new DiffusionLabException("`jumpLength` (9) must be below `steps`; `Mlp.Width` and `unheardOf` too; `not a name` stays");
        Assert.Equal("jumpLength (9) must be below steps; Mlp.Width and unheardOf too; `not a name` stays", e.Message);
        Assert.Equal(["jumpLength", "steps", "Mlp.Width", "unheardOf"], e.Parameters);
        var command = new Command("x");
        foreach (var flag in new[] { "--jump", "--steps", "--width" }) command.Options.Add(new Option<int>(flag));
        Assert.Equal("--jump (9) must be below --steps; --width and unheardOf too; `not a name` stays", ParameterFlags.Render(e, command));
        // a verb without the flag keeps the library's name rather than pointing at a flag it does not have
        Assert.Equal(e.Message, ParameterFlags.Render(e, new Command("y")));
    }

    [Theory]
    [InlineData("--batch-size must be positive, got 0", "sample", "--batch-size", "0")]
    [InlineData("--clip-x0 must be positive (or 0: off), got -1", "sample", "--clip-x0", "-1")]
    [InlineData("--diffusion-steps must be positive, got 0", "toy", "train", "--diffusion-steps", "0")]
    [InlineData("--steps must be at least 1, got 0", "toy", "train", "--steps", "0")]
    [InlineData("--ema must be in [0, 1), got 1", "toy", "train", "--ema", "1")]
    [InlineData("--width must be positive, got 0", "toy", "train", "--width", "0")]
    public void LibraryErrorsNameTheFlagOfTheVerb(string expected, params string[] args)
    {
        var (code, _, err) = CliRunner.Run([.. args, "--out", CliRunner.Temp()]);
        Assert.Equal(CliApp.ExitUserError, code);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("`", err);
    }

    [Fact]
    public void LibraryMessagesDoNotNameCommandLineFlags()
    {
        // A flag in a library message is wrong for every other front end and goes stale when the CLI renames it; the
        // library marks the parameter instead (`steps`) and ParameterFlags translates. Process arguments (npm's own
        // "--loglevel", dpkg-deb's "--field") are not messages: a literal that is nothing but a flag is one.
        var src = Architecture.LayeringTests.LibraryRoot();
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(src, f), Line: i + 1, Text: line.Trim())))
            .Where(l => !l.Text.StartsWith("//", StringComparison.Ordinal) && Regex.IsMatch(l.Text, "\"(?!--[a-z0-9-]+\")[^\"]*--[a-z][a-z0-9-]*"))
            .Select(l => $"{l.File}:{l.Line}: {l.Text}").ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }
}
