using DiffusionLab.Cli;

namespace DiffusionLab.Tests.Cli;

/// <summary>
/// Sharded sampling and editing on the shipped MNIST model: the N parts, run separately, write exactly the files of the
/// unsplit run, byte for byte, each part in its own folder.
/// </summary>
public class ShardCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>Every PNG under <paramref name="folder"/> (shard folders included), by file name.</summary>
    private static Dictionary<string, byte[]> Pngs(string folder, string sub) =>
        Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == sub)
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertSameFiles(Dictionary<string, byte[]> whole, Dictionary<string, byte[]> union)
    {
        Assert.Equal(whole.Keys.Order(), union.Keys.Order());
        foreach (var (name, bytes) in whole) Assert.True(bytes.AsSpan().SequenceEqual(union[name]), $"{name} differs between the whole run and its shard");
    }

    [Fact]
    public void TheShardsOfASampleRunAreTheWholeRunByteForByte()
    {
        var dir = CliRunner.Temp("difflab-shard");
        // DDPM draws fresh noise at every step, so this also checks the per-step noise, not only the starting noise
        string[] args = ["sample", "--class", "3,5", "--n", "7", "--batch-size", "2", "--sampler", "ddpm", "--steps", "4", "--seed", "11"];
        var whole = Path.Combine(dir, "whole");
        var (code, _, err) = Run([.. args, "--out", whole]);
        Assert.True(code == 0, err);
        var split = Path.Combine(dir, "split");
        foreach (var k in new[] { 2, 0, 1 }) // any order, any machine
        {
            string o;
            (code, o, err) = Run([.. args, "--shard", $"{k}/3", "--out", split]);
            Assert.True(code == 0, err);
            Assert.Contains($"shard {k}/3: images", o);
            Assert.True(File.Exists(Path.Combine(split, $"shard-{k}-of-3", "manifest.json")));
        }
        Assert.False(Directory.Exists(Path.Combine(split, "images"))); // nothing outside the parts' folders
        var wholeFiles = Pngs(whole, "images");
        Assert.Equal(7, wholeFiles.Count);
        AssertSameFiles(wholeFiles, Pngs(split, "images"));
        // the 7 images make 4 batches of 2: with 6 parts two get none, and say so
        var many = Path.Combine(dir, "many");
        var outputs = new List<string>();
        for (int k = 0; k < 6; k++)
        {
            string o;
            (code, o, err) = Run([.. args, "--shard", $"{k}/6", "--out", many]);
            Assert.True(code == 0, err);
            outputs.Add(o);
        }
        Assert.Equal(2, outputs.Count(o => o.Contains("no images", StringComparison.Ordinal)));
        AssertSameFiles(wholeFiles, Pngs(many, "images"));
    }

    [Fact]
    public void TheShardsOfAnEditAreTheWholeEditByteForByte()
    {
        var dir = CliRunner.Temp("difflab-shard-edit");
        var drawings = string.Join(",", Enumerable.Range(0, 3).Select(i => EditCliTests.Ring(dir, $"ring{i}.png", 6 + i)));
        string[] args = ["inpaint", "--image", drawings, "--invert", "no", "--mask", "centre", "--class", "0", "--steps", "4", "--batch-size", "1", "--seed", "2"];
        var whole = Path.Combine(dir, "whole");
        var (code, _, err) = Run([.. args, "--out", whole]);
        Assert.True(code == 0, err);
        var split = Path.Combine(dir, "split");
        foreach (var k in new[] { 1, 0 })
        {
            (code, _, err) = Run([.. args, "--shard", $"{k}/2", "--out", split]);
            Assert.True(code == 0, err);
        }
        var wholeFiles = Pngs(whole, "images");
        Assert.Equal(3, wholeFiles.Count);
        AssertSameFiles(wholeFiles, Pngs(split, "images"));
    }

    [Fact]
    public void TheShardsOfAnAnagramRunAreTheWholeRunByteForByte()
    {
        var dir = CliRunner.Temp("difflab-shard-anagram");
        string[] args = ["anagram", "--class", "6", "--view-class", "9", "--n", "3", "--batch-size", "1", "--steps", "3", "--seed", "1"];
        var whole = Path.Combine(dir, "whole");
        var (code, _, err) = Run([.. args, "--out", whole]);
        Assert.True(code == 0, err);
        var split = Path.Combine(dir, "split");
        foreach (var k in new[] { 0, 1, 2, 3 })
        {
            (code, _, err) = Run([.. args, "--shard", $"{k}/4", "--out", split]);
            Assert.True(code == 0, err);
        }
        AssertSameFiles(Pngs(whole, "images"), Pngs(split, "images"));
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("1")]
    [InlineData("-1/2")]
    [InlineData("a/b")]
    [InlineData("0/0")]
    public void ABadShardIsOneClearError(string shard)
    {
        var (code, _, err) = Run("sample", "--n", "2", "--shard", shard, "--out", CliRunner.Temp("difflab-shard-bad"));
        Assert.Equal(1, code);
        Assert.Contains("--shard must be K/N", err);
    }
}
