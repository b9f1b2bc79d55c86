using DiffusionLab.Data;
using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using DiffusionLab.Training;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;

namespace DiffusionLab.Tests.Training;

public class TrainerTests
{
    private static readonly ToyMlpConfig Tiny = new(Width: 32, Depth: 2, TimeDim: 16);

    private static (ToyMlp Net, ToyMlp Ema, Func<Generator, Tensor> Loss, DiscreteModel Model) Setup(long seed, int diffusionSteps = 100)
    {
        torch.manual_seed(seed);
        var net = new ToyMlp(Tiny);
        var ema = new ToyMlp(Tiny);
        var model = new DiscreteModel(S.Linear(diffusionSteps), new Denoiser(net, Parameterisation.Epsilon));
        var data = ToyDatasets.Sample("swiss-roll", 2000, seed: 0);
        Tensor Loss(Generator g)
        {
            var idx = torch.randint(0, 2000, [64], generator: g);
            return model.Loss(data.index_select(0, idx), g);
        }
        return (net, ema, Loss, model);
    }

    private static string TempDir() => Directory.CreateTempSubdirectory("difflab-train").FullName;

    private static float[] Weights(nn.Module m) => m.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();

    [Fact]
    public void ResumedTrainingMatchesAnUninterruptedRun()
    {
        var options = new TrainingOptions { Steps = 40, LearningRate = 1e-3, WarmupSteps = 5, LogEvery = 5, CheckpointEvery = 100, EmaDecay = 0.9, Seed = 3 };
        var full = Setup(1);
        var fullHistory = Trainer.Train(full.Net, full.Ema, full.Loss, options, TempDir());

        var dir = TempDir();
        var first = Setup(1);
        long stepsDone = 0;
        Trainer.Train(first.Net, first.Ema, g => { stepsDone++; return first.Loss(g); }, options, dir, shouldStop: () => stepsDone == 17);
        Assert.Equal(17, Trainer.CheckpointStep(Path.Combine(dir, Trainer.CheckpointFile)));
        var second = Setup(99); // different initial weights: everything must come from the checkpoint
        var resumedHistory = Trainer.Train(second.Net, second.Ema, second.Loss, options, dir, resume: true);

        Assert.Equal(Weights(full.Net), Weights(second.Net));
        Assert.Equal(Weights(full.Ema), Weights(second.Ema));
        Assert.Equal(fullHistory.Select(p => p.Step), resumedHistory.Select(p => p.Step));
        Assert.Equal(fullHistory.Select(p => p.Loss), resumedHistory.Select(p => p.Loss));
    }

    [Fact]
    public void TrainingReducesTheLossAndWritesTheCurve()
    {
        var dir = TempDir();
        var s = Setup(2, diffusionSteps: 1000);
        var data = ToyDatasets.Sample("swiss-roll", 4000, seed: 7);
        double Eval() { using var _ = torch.no_grad(); return s.Model.Loss(data, new Generator(11)).item<float>(); }
        double before = Eval();
        var history = Trainer.Train(s.Net, null, s.Loss, new TrainingOptions { Steps = 400, LogEvery = 50, WarmupSteps = 20, EmaDecay = 0, Seed = 1 }, dir);
        double after = Eval();
        // An untrained ε-network scores ≈ E‖ε‖²/D = 1; with T = 1000 most steps are noisy enough that a trained one
        // predicts most of ε from x_t.
        Assert.True(after < 0.75 * before, $"held-out loss {before} → {after}");
        Assert.True(File.Exists(Path.Combine(dir, "loss.png")));
        Assert.Equal(1 + 8, File.ReadAllLines(Path.Combine(dir, "loss.csv")).Length);
        Assert.Equal(8, history.Count);
    }

    /// <summary>Trains 20 steps with a checkpoint every 5, the loss NaN from step <paramref name="goodSteps"/> + 1 on.</summary>
    private static (DiffusionLabException Error, string Dir) DivergeAfter(int goodSteps)
    {
        var dir = TempDir();
        var s = Setup(3);
        var options = new TrainingOptions { Steps = 20, CheckpointEvery = 5, EmaDecay = 0, Seed = 1 };
        long n = 0;
        var e = Assert.Throws<DiffusionLabException>(() => Trainer.Train(s.Net, null, g => ++n > goodSteps ? s.Loss(g) * double.NaN : s.Loss(g), options, dir));
        return (e, dir);
    }

    [Fact]
    public void NaNLossStopsWithAClearErrorAndKeepsTheCheckpoint()
    {
        var (e, dir) = DivergeAfter(12);
        Assert.Contains("training diverged", e.Message);
        Assert.Contains("the checkpoint of step 10", e.Message);
        Assert.Contains("`LearningRate`", e.Template);
        Assert.Equal(10, Trainer.CheckpointStep(Path.Combine(dir, Trainer.CheckpointFile)));
    }

    [Fact]
    public void TheInitialWeightsShareOfTheEmaIsTheDecayToThePowerOfTheSteps()
    {
        Assert.Equal(Math.Pow(0.999, 1500), Trainer.InitialWeightInEma(new TrainingOptions { Steps = 1500, EmaDecay = 0.999 })!.Value, 12);
        Assert.InRange(Trainer.InitialWeightInEma(new TrainingOptions { Steps = 1500, EmaDecay = 0.999 })!.Value, 0.22, 0.23); // the 2-D case
        // with the warm-up the first update copies 90 % of the network (d = 1/10): almost nothing of the start is left
        Assert.True(Trainer.InitialWeightInEma(new TrainingOptions { Steps = 1500, EmaDecay = 0.999, EmaWarmup = true }) < 1e-6);
        Assert.Null(Trainer.InitialWeightInEma(new TrainingOptions { Steps = 1500, EmaDecay = 0 }));
    }

    [Fact]
    public void NaNLossAtTheStartSaysNoCheckpointExistsAndNamesTheNativeSettingsNotTheLearningRate()
    {
        var (e, dir) = DivergeAfter(1);
        Assert.Contains("at step 2", e.Message);
        Assert.Contains("no checkpoint was written yet", e.Message);
        Assert.DoesNotContain("--lr", e.Message);
        Assert.Contains("oneDNN", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, Trainer.CheckpointFile)));
    }

    [Fact]
    public void CorruptOrTruncatedCheckpointsAreClearErrors()
    {
        var dir = TempDir();
        var s = Setup(4);
        Trainer.Train(s.Net, s.Ema, s.Loss, new TrainingOptions { Steps = 3, Seed = 1 }, dir);
        var path = Path.Combine(dir, Trainer.CheckpointFile);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("corrupt", Assert.Throws<DiffusionLabException>(() => Trainer.LoadWeights(path, new ToyMlp(Tiny))).Message);
        File.WriteAllText(path, "garbage");
        Assert.Contains("not a DiffusionLab checkpoint", Assert.Throws<DiffusionLabException>(() => Trainer.LoadWeights(path, new ToyMlp(Tiny))).Message);
        Assert.Contains("does not match", Assert.Throws<DiffusionLabException>(() =>
        {
            File.WriteAllBytes(path, bytes);
            Trainer.LoadWeights(path, new ToyMlp(Tiny with { Width = 16 }));
        }).Message);
    }

    [Fact]
    public void LearningRateWarmsUpThenDecays()
    {
        var o = new TrainingOptions { Steps = 1000, LearningRate = 1e-3, WarmupSteps = 100 };
        Assert.Equal(1e-5, o.LearningRateAt(0), 12);
        Assert.Equal(1e-3, o.LearningRateAt(99), 12);
        Assert.Equal(1e-3, o.LearningRateAt(100), 12);
        Assert.Equal(1e-5, o.LearningRateAt(1000), 12);
        Assert.True(o.LearningRateAt(500) < o.LearningRateAt(300));
    }
}
