using DiffusionLab.Imaging;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;
using DiffusionLab.Studies;

namespace DiffusionLab.Tests.Studies;

public class ForwardStudyTests
{
    [Fact]
    public void CosineKeepsTheDemoImageStructuredLongerThanLinear()
    {
        using var scope = torch.NewDisposeScope();
        using var demo = DemoImage.Create(32);
        var x0 = ImageTensor.FromBitmap(demo);
        var noise = torch.randn(x0.shape, generator: TensorOps.SeededGenerator(0));
        var options = new ForwardAnalysisOptions { EvaluationPoints = 100 };
        var linear = ForwardAnalysis.Analyse(x0, noise, S.Linear(1000), options);
        var cosine = ForwardAnalysis.Analyse(x0, noise, S.Cosine(1000), options);
        Assert.True(cosine.StepsStructured > linear.StepsStructured, $"cosine {cosine.StepsStructured} vs linear {linear.StepsStructured}");
        Assert.True(cosine.StepsRecognisable > linear.StepsRecognisable);
        // Structure is 1 at x_0 and near 0 at the end, where x_t is almost pure noise.
        Assert.Equal(1.0, linear.Points[0].Structure, 1e-9);
        Assert.InRange(linear.Points[^1].Structure, -0.1, 0.1);
        Assert.InRange(linear.Points[^1].Correlation, -0.05, 0.05);
        // Steps with SNR ≥ 1, from the schedule alone.
        Assert.Equal(Enumerable.Range(1, 1000).Count(t => S.Linear(1000).AlphaBar(t) >= 0.5), (int)Math.Round(linear.HalfSignalFraction * 1000));
    }

    [Fact]
    public void InterpolatedCountsAgreeWithEvaluatingEveryStep()
    {
        using var scope = torch.NewDisposeScope();
        using var demo = DemoImage.Create(16);
        var x0 = ImageTensor.FromBitmap(demo);
        var noise = torch.randn(x0.shape, generator: TensorOps.SeededGenerator(1));
        var s = S.Cosine(200);
        var every = ForwardAnalysis.Analyse(x0, noise, s, new ForwardAnalysisOptions { EvaluationPoints = 200 });
        var sparse = ForwardAnalysis.Analyse(x0, noise, s, new ForwardAnalysisOptions { EvaluationPoints = 50 });
        Assert.Equal(201, every.Points.Count);
        Assert.Equal(51, sparse.Points.Count);
        Assert.InRange(sparse.StepsStructured - every.StepsStructured, -4, 4);
        Assert.InRange(sparse.StepsRecognisable - every.StepsRecognisable, -4, 4);
    }

    [Fact]
    public void RunWritesEveryArtefact()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-fwd").FullName;
        using var scope = torch.NewDisposeScope();
        using var demo = DemoImage.Create(16);
        var x0 = ImageTensor.FromBitmap(demo);
        var schedules = new[] { S.Linear(100), S.Cosine(100) };
        var results = ForwardStudy.Run(x0, schedules, [0, 50, 100], new ForwardAnalysisOptions(), dir);
        Assert.Equal(2, results.Count);
        foreach (var f in new[] { "x0.png", "strip.png", "histograms.png", "structure.png" })
        {
            using var bmp = SKBitmap.Decode(Path.Combine(dir, f));
            Assert.NotNull(bmp);
        }
        var csv = File.ReadAllLines(Path.Combine(dir, "structure.csv"));
        Assert.Equal("schedule,t,alpha_bar,correlation,sliced_w1,structure", csv[0]);
        Assert.Equal(1 + 2 * 101, csv.Length);
        Assert.Contains("keeps the data structured longest", File.ReadAllText(Path.Combine(dir, "report.md")));
        Assert.Throws<DiffusionLabException>(() => ForwardStudy.Run(x0, schedules, [101], new ForwardAnalysisOptions(), dir));
    }
}
