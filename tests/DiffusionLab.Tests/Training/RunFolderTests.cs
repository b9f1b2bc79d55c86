using System.Text.Json.Nodes;
using DiffusionLab.Tests.Cli;
using DiffusionLab.Training;

namespace DiffusionLab.Tests.Training;

/// <summary>Image and 2-D runs share one run-folder type: no silent overwrite, resume only the same configuration (the
/// refusal names the field), and a finished run can be extended.</summary>
public class RunFolderTests
{
    private static readonly string[] Toy = ["toy", "train", "--steps", "20", "--batch-size", "64", "--data-size", "300", "--width", "16", "--depth", "1", "--diffusion-steps", "50"];

    [Fact]
    public void ToyTrainIntoAFinishedRunIsRefusedAndResumeNamesTheDifferingField()
    {
        var run = Path.Combine(CliRunner.Temp("difflab-runfolder"), "run");
        var (code, o, err) = CliRunner.Run([.. Toy, "--out", run]);
        Assert.True(code == 0, err);
        Assert.Contains("of the EMA weights that sampling uses are still the random initial ones", o); // 20 steps at d = 0.999
        var checkpoint = File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile));
        (code, _, err) = CliRunner.Run([.. Toy, "--out", run]); // used to overwrite the checkpoint silently
        Assert.Equal(1, code);
        Assert.Contains("already holds a trained run (step 20); pass --resume", err);
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile)));
        (code, _, err) = CliRunner.Run([.. Toy, "--out", run, "--resume", "--seed", "5"]);
        Assert.Equal(1, code);
        Assert.Contains("Training.Seed is 0 there, 5 now", err);
        // a finished run extended: the length is the one field a resume may change
        (code, _, err) = CliRunner.Run([.. Toy.Select(a => a == "20" ? "30" : a), "--out", run, "--resume"]);
        Assert.True(code == 0, err);
        Assert.Equal(30, Trainer.CheckpointStep(Path.Combine(run, Trainer.CheckpointFile)));
    }

    [Fact]
    public void DifferencesAreLeafPathsWithBothValues()
    {
        var a = JsonNode.Parse("""{"Epochs": 1, "Training": {"Seed": 1, "Lr": 0.001}, "Model": "x"}""");
        var b = JsonNode.Parse("""{"Epochs": 2, "Training": {"Seed": 2, "Lr": 0.001}, "Extra": true}""");
        var d = RunFolder.Differences(a, b, "").ToList();
        Assert.Contains(("Epochs", "1", "2"), d);
        Assert.Contains(("Training.Seed", "1", "2"), d);
        Assert.Contains(("Model", "\"x\"", "absent"), d);
        Assert.Contains(("Extra", "absent", "true"), d);
        Assert.Equal(4, d.Count);
    }
}
