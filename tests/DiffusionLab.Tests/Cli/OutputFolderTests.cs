using DiffusionLab.Evaluation;

namespace DiffusionLab.Tests.Cli;

/// <summary>Output folders never mix two runs, never have two writers, and absurd input is refused before any work.</summary>
public class OutputFolderTests
{
    private static (int Code, string Out, string Err) Sample(string outDir, params string[] extra) =>
        CliRunner.Run(["sample", "--class", "3", "--sampler", "ddim", "--steps", "3", "--out", outDir, .. extra]);

    [Fact]
    public void ASecondSampleIntoTheSameFolderIsRefusedAndOverwriteReplacesOnlyWhatTheFirstWrote()
    {
        var dir = CliRunner.Temp("difflab-outfolder");
        var (code, _, err) = Sample(dir, "--n", "6");
        Assert.True(code == 0, err);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        // the case that used to print "wrote 3 PNGs" and leave 6 behind for 'eval fid'
        (code, _, err) = Sample(dir, "--n", "3");
        Assert.Equal(1, code);
        Assert.Contains("already holds outputs (7 files from an earlier 'sample')", err); // 6 PNGs + grid.png
        Assert.Contains("--overwrite", err);
        Assert.Equal(6, Directory.GetFiles(Path.Combine(dir, "images")).Length); // refused before any work: nothing touched
        (code, var o, err) = Sample(dir, "--n", "3", "--overwrite");
        Assert.True(code == 0, err);
        Assert.Contains("wrote 3 PNGs", o);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, "images")).Length);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt"))); // not the verb's: kept
        var manifest = OutputManifest.Read(dir)!;
        Assert.Equal("sample", manifest.Verb);
        Assert.Equal(4, manifest.Files.Count); // 3 PNGs + grid.png
        Assert.Equal(3, manifest.Images.Count); // what the evaluators read
        // a stray PNG dropped into images/ is not scored: the evaluators read what the manifest lists
        File.Copy(Path.Combine(dir, "images", "00000-class3.png"), Path.Combine(dir, "images", "99999-class3.png"));
        Assert.Equal(3, ImageSets.Load(Path.Combine(dir, "images")).Count);
        Assert.Equal(3, ImageSets.Load(dir).Count);
        // a folder of the user's own beside them is not filtered by the parent's manifest, which lists nothing in it
        Directory.CreateDirectory(Path.Combine(dir, "mine"));
        File.Copy(Path.Combine(dir, "images", "00000-class3.png"), Path.Combine(dir, "mine", "a.png"));
        Assert.Equal(1, ImageSets.Load(Path.Combine(dir, "mine")).Count);
    }

    [Fact]
    public void SampleWithoutOutWritesAnotherModelToAFolderOfItsOwn()
    {
        // the README's main job fills out/samples; sampling another model right after it must not run into those files
        var name = "model-" + Guid.NewGuid().ToString("N")[..8];
        var model = Path.Combine(CliRunner.Temp("difflab-defaultout"), name);
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(RepositoryPaths.Of("models/mnist-cs180-class")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var expected = Path.GetFullPath(Path.Combine("out", $"samples-{name}"));
        try
        {
            var (code, o, err) = CliRunner.Run("sample", "--model", model + Path.DirectorySeparatorChar, "--class", "3", "--n", "2", "--sampler", "ddim", "--steps", "2");
            Assert.True(code == 0, err);
            Assert.True(File.Exists(Path.Combine(expected, "grid.png")), o);
        }
        finally { if (Directory.Exists(expected)) Directory.Delete(expected, recursive: true); }
    }

    [Fact]
    public void EditingVerbsRefuseAFolderWithOutputsAndListWhatTheyWrote()
    {
        var dir = CliRunner.Temp("difflab-editfolder");
        string[] anagram = ["anagram", "--class", "6", "--view-class", "9", "--steps", "3", "--out", dir];
        var (code, _, err) = CliRunner.Run([.. anagram, "--n", "3"]);
        Assert.True(code == 0, err);
        var manifest = OutputManifest.Read(dir)!;
        Assert.Equal("anagram", manifest.Verb);
        Assert.Equal(3, manifest.Images.Count);
        Assert.Contains("grid.png", manifest.Files);
        Assert.Contains("judge.json", manifest.Files);
        // hybrid into the anagram's folder: refused before any work, naming what is there
        (code, _, err) = CliRunner.Run("hybrid", "--far", "0", "--near", "1", "--n", "2", "--steps", "3", "--out", dir);
        Assert.Equal(1, code);
        Assert.Contains("from an earlier 'anagram'", err);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, "images")).Length);
        (code, _, err) = CliRunner.Run([.. anagram, "--n", "2", "--overwrite"]);
        Assert.True(code == 0, err);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "images")).Length);
        Assert.Equal(2, ImageSets.Load(dir).Count);
        // sdedit's folders are named by level: a second run with other levels would mix them, so it is refused too
        var sd = CliRunner.Temp("difflab-sdfolder");
        string[] sdedit = ["sdedit", "--image", Directory.GetFiles(Path.Combine(dir, "images"))[0], "--steps", "5", "--out", sd];
        (code, _, err) = CliRunner.Run([.. sdedit, "--i-start", "1,5"]);
        Assert.True(code == 0, err);
        (code, _, err) = CliRunner.Run([.. sdedit, "--i-start", "2"]);
        Assert.Equal(1, code);
        Assert.Contains("--overwrite", err);
        (code, _, err) = CliRunner.Run([.. sdedit, "--i-start", "2", "--overwrite"]);
        Assert.True(code == 0, err);
        Assert.Equal("i_start-2", Path.GetFileName(Assert.Single(Directory.GetDirectories(sd))));
    }

    [Fact]
    public void EvalHelpListsClassOnlyWhereItIsRead()
    {
        Assert.DoesNotContain("--class", CliRunner.Run("eval", "fid", "--help").Out);
        Assert.DoesNotContain("--class", CliRunner.Run("eval", "kid", "--help").Out);
        Assert.Contains("--class", CliRunner.Run("eval", "accuracy", "--help").Out);
    }

    [Fact]
    public void TheDefaultSamplerIsTwentyDpmSolverSteps()
    {
        var (code, o, err) = CliRunner.Run("sample", "--class", "3", "--n", "2", "--out", CliRunner.Temp("difflab-default"));
        Assert.True(code == 0, err);
        Assert.Contains("dpm++2m 20 steps (40 network evaluations per image", o); // RESULTS: matches DDPM-300 at γ = 5
        Assert.Contains("sampling 2 images: 100 % (20/20)", o); // the progress line, plain when redirected
    }

    [Fact]
    public void AFolderAnotherProcessWritesIsRefusedNamingItsHolder()
    {
        var dir = CliRunner.Temp("difflab-locked");
        using (FolderLock.Acquire(dir, "difflab train"))
        {
            // another writer (the lock is an OS file lock: a second open in this process conflicts like another process)
            var e = Assert.Throws<DiffusionLabException>(() => FolderLock.Acquire(dir, "difflab sample"));
            Assert.Contains($"in use by another difflab process (PID {Environment.ProcessId}, difflab train, since", e.Message);
            var (code, _, err) = Sample(dir, "--n", "2");
            Assert.Equal(1, code);
            Assert.Contains("in use by another difflab process", err);
        }
        var (ok, _, okErr) = Sample(dir, "--n", "2"); // released: usable again, and the command releases its own lock
        Assert.True(ok == 0, okErr);
        using (FolderLock.Acquire(dir, "difflab sample")) { }
        Assert.False(File.Exists(Path.Combine(dir, FolderLock.OwnerFileName)));
    }

    [Fact]
    public void AnOutThatIsAFileAndNonFiniteOptionsAreOneLineErrors()
    {
        var file = Path.Combine(CliRunner.Temp("difflab-outfile"), "taken.txt");
        File.WriteAllText(file, "x");
        var (code, _, err) = Sample(file, "--n", "2");
        Assert.Equal(1, code);
        Assert.Contains("is a file; the output must be a folder", err);
        (code, _, err) = Sample("/proc/difflab-cannot-write-here", "--n", "2"); // unwritable: refused before any sampling
        Assert.Equal(1, code);
        Assert.Contains("cannot create the output folder /proc/difflab-cannot-write-here", err);
        foreach (var bad in new[] { "nan", "NaN", "Infinity" })
        {
            (code, _, err) = Sample(CliRunner.Temp("difflab-nan"), "--n", "2", "--guidance-scale", bad);
            Assert.Equal(1, code);
            Assert.Contains("--guidance-scale must be a finite number", err);
        }
        (code, _, err) = CliRunner.Run("hybrid", "--far", "0", "--near", "1", "--sigma", "nan", "--out", CliRunner.Temp("difflab-nan"));
        Assert.Equal(1, code);
        Assert.Contains("--sigma must be a finite number", err);
        (code, _, err) = CliRunner.Run("hybrid", "--far", "0", "--near", "1", "--sigma", "-2", "--out", CliRunner.Temp("difflab-sigma"));
        Assert.Equal(1, code);
        Assert.Contains("--sigma must be positive", err); // not a complaint about a kernel size the user never gave
    }

    [Theory]
    [InlineData("BatchSize", "-3", "BatchSize in CONFIG must be positive, got -3")]
    [InlineData("DiffusionSteps", "0", "DiffusionSteps in CONFIG must be positive, got 0")]
    [InlineData("Schedule", "\"cosinus\"", "CONFIG: unknown schedule 'cosinus'")]
    public void ABadConfigFieldIsNamedAsTheFilesFieldNotAsAnOption(string field, string value, string expected)
    {
        // the user never passed --batch-size or --diffusion-steps: the message names the file and its field
        var model = CliRunner.Temp("difflab-badconfig");
        var shipped = Path.Combine(AppContext.BaseDirectory, "models", "mnist-cs180-class");
        foreach (var f in Directory.GetFiles(shipped)) File.Copy(f, Path.Combine(model, Path.GetFileName(f)));
        var config = Path.Combine(model, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!;
        json[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(config, json.ToJsonString());
        var (code, _, err) = CliRunner.Run("sample", "--model", model, "--n", "2", "--out", CliRunner.Temp("difflab-badconfig-out"));
        Assert.Equal(1, code);
        Assert.Contains(expected.Replace("CONFIG", config), err);
        Assert.DoesNotContain("--", err);
    }

    [Fact]
    public void ATruncatedPngIsAnErrorNamingItNotBlackRows()
    {
        var dir = CliRunner.Temp("difflab-truncated");
        var (code, _, err) = Sample(dir, "--n", "3");
        Assert.True(code == 0, err);
        var images = Path.Combine(dir, "images");
        var victim = Directory.GetFiles(images).Order().Last();
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes[..(bytes.Length * 2 / 3)]); // cut off, as by a full disk or an interrupted copy
        var e = Assert.Throws<DiffusionLabException>(() => ImageSets.Load(images));
        Assert.Contains($"image {victim} is truncated", e.Message);
        (code, _, err) = CliRunner.Run("eval", "accuracy", "--fake", images);
        Assert.Equal(1, code);
        Assert.Contains("is truncated", err);
        // a class folder read as a training set (decoded in parallel) says the same
        var classes = CliRunner.Temp("difflab-truncated-folder");
        foreach (var c in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(classes, c));
            foreach (var f in Directory.GetFiles(images)) File.Copy(f, Path.Combine(classes, c, Path.GetFileName(f)));
        }
        var ex = Assert.Throws<DiffusionLabException>(() => DiffusionLab.Data.ImageFolder.Load(classes, "train", 28, 1));
        Assert.Contains("is truncated", ex.Message);
    }

    [Theory]
    [InlineData("sample --n 2000000000", "writing 2,000,000,000 PNGs needs about 1.97 TB of disk (an estimate)")]
    [InlineData("sample --unconditional --n 20000000 --batch-size 20000000 --grid-only", "sampling in batches of 20000000 needs about")]
    [InlineData("anagram --class 6 --view-class 9 --n 200000000", "editing 200,000,000 images in batches of 100 needs about")]
    public void SizesThatCannotFitAreRefusedUpFrontWithTheEstimate(string args, string expected)
    {
        // each estimate is terabytes: past any machine this suite runs on, so the refusal holds everywhere
        var dir = CliRunner.Temp("difflab-absurd");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, err) = CliRunner.Run([.. args.Split(' '), "--out", dir]);
        Assert.Equal(1, code);
        Assert.Contains(expected, err);
        Assert.Matches(@"but [\d.,]+ [MGT]B (is available|is free)", err);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(dir), f => !Path.GetFileName(f).StartsWith(".difflab", StringComparison.Ordinal)); // nothing written
        Assert.True(clock.Elapsed.TotalSeconds < 30, $"took {clock.Elapsed.TotalSeconds:F0} s: the refusal must come before the work");
    }

    [Fact]
    public void ResourceEstimatesAreComparedWithWhatIsThere()
    {
        ResourceCheck.EnsureMemory(1e9, "x", "y", available: 2_000_000_000); // fits
        var e = Assert.Throws<DiffusionLabException>(() => ResourceCheck.EnsureMemory(3e9, "sampling", "lower --batch-size", available: 2_000_000_000));
        Assert.Equal("sampling needs about 3 GB of memory (an estimate) but 2 GB is available; lower --batch-size", e.Message);
        e = Assert.Throws<DiffusionLabException>(() => ResourceCheck.EnsureDisk("/x", 5e12, "writing", "lower --n", free: 1_500_000_000));
        Assert.Equal("writing needs about 5 TB of disk (an estimate) but 1.5 GB is free in /x; lower --n", e.Message);
    }
}
