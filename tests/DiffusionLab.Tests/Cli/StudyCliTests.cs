namespace DiffusionLab.Tests.Cli;

/// <summary>The sampler study on the shipped model, tiny: its CSV is rewritten after every setting and --resume skips done ones.</summary>
public class StudyCliTests
{
    [Fact]
    public void SamplerStudyResumesFromItsCsv()
    {
        var out_ = CliRunner.Temp("difflab-study");
        var real = RepositoryPaths.Of("docs/examples/mnist-heldout"); // ten held-out digits that ship with the repository
        var (code, output, err) = CliRunner.Run("study", "samplers", "--real", real, "--n", "4", "--samplers", "ddim,heun-karras", "--steps-list", "3",
            "--guidance-scale", "1", "--out", out_);
        Assert.True(code == 0, err + output);
        var csv = Path.Combine(out_, "study.csv");
        Assert.Equal(3, File.ReadAllLines(csv).Length); // header + ddim-3 + heun-karras-3
        Assert.Contains("heun-karras-3,1,heun-karras,2,3,4,", File.ReadAllText(csv)); // 2 levels = 3 evaluations
        (code, output, err) = CliRunner.Run("study", "samplers", "--real", real, "--n", "4", "--samplers", "ddim,heun-karras", "--steps-list", "3,5",
            "--guidance-scale", "1", "--resume", "--out", out_);
        Assert.True(code == 0, err + output);
        Assert.Contains("resuming: 2 settings", output);
        Assert.DoesNotContain("ddim-3 |", output); // not sampled again
        Assert.Contains("ddim-5 |", output);
        Assert.Equal(5, File.ReadAllLines(csv).Length);
        Assert.True(new FileInfo(Path.Combine(out_, "fid-vs-nfe.png")).Length > 1000);
    }

    [Fact]
    public void GuidanceStudySamplesInTheRequestedPrecision()
    {
        var real = RepositoryPaths.Of("docs/examples/mnist-heldout");
        (bool RanBf16, string Fid) Study(string precision)
        {
            var out_ = CliRunner.Temp("difflab-study-" + precision);
            var (code, output, err) = CliRunner.Run("study", "guidance", "--real", real, "--n", "4", "--gammas", "2", "--sampler", "ddim",
                "--steps", "3", "--precision", precision, "--out", out_);
            Assert.True(code == 0, err + output);
            var fid = File.ReadAllLines(Path.Combine(out_, "study.csv"))[1].Split(',')[6]; // the gamma=2 row's FID
            return (output.Contains("sampling in bf16 mixed precision"), fid);
        }
        var fp32 = Study("fp32");
        var bf16 = Study("bf16");
        Assert.False(fp32.RanBf16);
        // where this CPU runs bf16 the samples (so the FID) differ; where it falls back (a line says why), they are fp32's
        if (bf16.RanBf16) Assert.NotEqual(fp32.Fid, bf16.Fid);
        else Assert.Equal(fp32.Fid, bf16.Fid);
        var (code, _, err) = CliRunner.Run("study", "guidance", "--real", real, "--n", "4", "--precision", "fp16", "--out", CliRunner.Temp("difflab-study-bad"));
        Assert.Equal(1, code);
        Assert.Contains("fp16", err);
    }
}
