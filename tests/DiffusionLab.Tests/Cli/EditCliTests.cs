using DiffusionLab.Cli;
using DiffusionLab.Imaging;
using SkiaSharp;
using TorchSharp;

namespace DiffusionLab.Tests.Cli;

/// <summary>The editing verbs on the shipped MNIST model, with few steps to keep the suite fast.</summary>
public class EditCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Temp() => CliRunner.Temp("difflab-editcli");

    /// <summary>A 28×28 "drawing": a dark ring on white, like a digit drawn in a paint program.</summary>
    private static string Drawing(string dir) => Ring(dir, "drawing.png", 8);

    /// <summary>A dark ring of <paramref name="radius"/> pixels on white, 28×28, written to DIR/NAME.</summary>
    internal static string Ring(string dir, string name, double radius)
    {
        using var bmp = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                double r = Math.Sqrt((x - 13.5) * (x - 13.5) + (y - 13.5) * (y - 13.5));
                bmp.SetPixel(x, y, Math.Abs(r - radius) < 2 ? SKColors.Black : SKColors.White);
            }
        var path = Path.Combine(dir, name);
        ImageTensor.SavePng(bmp, path);
        return path;
    }

    [Fact]
    public void InpaintKeepsTheKnownPixelsOfThePngExactly()
    {
        var dir = Temp();
        var drawing = Drawing(dir);
        var outDir = Path.Combine(dir, "out");
        var (code, o, err) = Run("inpaint", "--image", drawing, "--invert", "no", "--mask", "rect:6,6,16,10", "--class", "0", "--steps", "5", "--compare", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("largest change outside the hole: 0", o);
        Assert.True(File.Exists(Path.Combine(outDir, "grid.png")));
        using var before = SKBitmap.Decode(drawing);
        using var after = SKBitmap.Decode(Path.Combine(outDir, "images", "00000-class0.png"));
        int changedOutside = 0, changedInside = 0;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                bool hole = x >= 6 && x < 22 && y >= 6 && y < 16;
                bool changed = before.GetPixel(x, y).Red != after.GetPixel(x, y).Red;
                if (hole && changed) changedInside++;
                if (!hole && changed) changedOutside++;
            }
        Assert.Equal(0, changedOutside);
        Assert.True(changedInside > 10, $"only {changedInside} hole pixels changed");
    }

    [Fact]
    public void EditingVerbsWriteTheirPicturesAndJudgeThem()
    {
        var dir = Temp();
        var drawing = Drawing(dir);
        var (code, o, err) = Run("sdedit", "--image", drawing, "--i-start", "0,10,30", "--class", "0", "--out", Path.Combine(dir, "sd"));
        Assert.True(code == 0, err);
        Assert.Contains("inverted to white on black", o);
        Assert.True(File.Exists(Path.Combine(dir, "sd", "strip.png")));
        // level K (30) returns the input: the PNG equals the inverted drawing
        using (var input = SKBitmap.Decode(drawing))
        using (var same = SKBitmap.Decode(Path.Combine(dir, "sd", "i_start-30", "00000-class0.png")))
            Assert.Equal(255 - input.GetPixel(13, 5).Red, same.GetPixel(13, 5).Red);
        (code, o, err) = Run("anagram", "--class", "6", "--view-class", "9", "--view", "rot180", "--n", "2", "--steps", "5", "--out", Path.Combine(dir, "ana"));
        Assert.True(code == 0, err);
        Assert.Contains("judge:", o);
        Assert.True(File.Exists(Path.Combine(dir, "ana", "judge.json")));
        // classes by name on every editing verb; a wrong name is one line naming the flag it came from
        (code, _, err) = Run("anagram", "--class", "6", "--view-class", "nine", "--steps", "2", "--n", "1", "--out", Path.Combine(dir, "ana-bad"));
        Assert.Equal(CliApp.ExitUserError, code);
        Assert.Contains("no class is called 'nine' (--view-class;", err);
        (code, _, err) = Run("hybrid", "--far", "0", "--near", "12", "--steps", "2", "--n", "1", "--out", Path.Combine(dir, "hy-bad"));
        Assert.Equal(CliApp.ExitUserError, code);
        Assert.Contains("(--near)", err);
        (code, o, err) = Run("hybrid", "--far", "0", "--near", "1", "--n", "2", "--steps", "5", "--out", Path.Combine(dir, "hy"));
        Assert.True(code == 0, err);
        Assert.Contains("σ = 0.875 px, kernel 9", o);
        Assert.True(File.Exists(Path.Combine(dir, "hy", "grid.png")));
    }

    [Fact]
    public void EditingVerbsRunInBf16MixedPrecision()
    {
        var dir = Temp();
        var drawing = Drawing(dir);
        // MCG differentiates through the network: the gradient passes the bf16 casts; the known pixels are still kept exactly
        var (code, o, err) = Run("inpaint", "--image", drawing, "--invert", "no", "--mask", "rect:6,6,16,10", "--class", "0", "--steps", "5", "--compare", "--precision", "bf16", "--out", Path.Combine(dir, "in"));
        Assert.True(code == 0, err);
        Assert.Contains("largest change outside the hole: 0", o);
        (code, _, err) = Run("anagram", "--class", "6", "--view-class", "9", "--n", "2", "--steps", "5", "--precision", "bf16", "--out", Path.Combine(dir, "ana"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, "ana", "grid.png")));
    }

    [Fact]
    public void ClassifierGuidanceSamplesWithTheShippedNoiseAwareClassifier()
    {
        var dir = Temp();
        var noisy = Path.Combine(AppContext.BaseDirectory, "models", "mnist-noisy-classifier");
        var (code, o, err) = Run("sample", "--class", "4", "--n", "2", "--sampler", "ddim", "--steps", "4", "--classifier", noisy, "--classifier-scale", "3", "--out", dir);
        Assert.True(code == 0, err);
        Assert.Contains("classifier guidance s = 3", o);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "images"), "*-class4.png").Length);
        (code, _, err) = Run("sample", "--n", "2", "--classifier", noisy, "--unconditional", "--out", dir);
        Assert.Equal(1, code);
        Assert.Contains("needs a class", err);
    }

    [Theory]
    [InlineData("inpaint --image DRAWING --mask MASK16", "16×16")]
    [InlineData("inpaint --image DRAWING --class 12", "out of range")]
    [InlineData("inpaint --image DRAWING --mask ellipse", "unknown --mask")]
    [InlineData("inpaint --mask centre", "--image FILE or --from")]
    [InlineData("sdedit --image DRAWING --i-start 31", "beyond the schedule")]
    [InlineData("sdedit --image DRAWING --steps 20 --i-start 21", "beyond the schedule")]
    [InlineData("sdedit --image DRAWING --strength 1.5", "--strength must be in [0, 1], got 1.5")]
    [InlineData("inpaint --image DRAWING --jump 0", "--jump must be at least 1, got 0")]
    [InlineData("inpaint --image DRAWING --resample 0", "--resample must be at least 1, got 0")]
    [InlineData("inpaint --image DRAWING --mcg -1", "--mcg must be non-negative")]
    [InlineData("sdedit --image missing.png", "not found")]
    [InlineData("anagram --class 6 --view-class 10", "out of range")]
    [InlineData("anagram --class 6 --view-class 9 --view mirror", "unknown view")]
    [InlineData("hybrid --far 0 --near 1 --kernel 4", "odd")]
    [InlineData("hybrid --far 0 --near 1 --precision fp8", "unknown --precision 'fp8'")]
    [InlineData("sdedit --image DRAWING --precision half", "unknown --precision 'half'")]
    [InlineData("sample --class 3 --classifier CLEAN", "--noisy")]
    public void BadEditingInputGivesOneClearError(string args, string expected)
    {
        var dir = Temp();
        var drawing = Drawing(dir);
        var mask = Path.Combine(dir, "mask16.png");
        using (var bmp = new SKBitmap(16, 16, SKColorType.Gray8, SKAlphaType.Opaque)) ImageTensor.SavePng(bmp, mask);
        var clean = Path.Combine(AppContext.BaseDirectory, "models", "mnist-classifier");
        var (code, _, err) = Run([.. args.Split(' ').Select(a => a.Replace("DRAWING", drawing).Replace("MASK16", mask).Replace("CLEAN", clean)), "--out", Path.Combine(dir, "o")]);
        Assert.Equal(1, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
