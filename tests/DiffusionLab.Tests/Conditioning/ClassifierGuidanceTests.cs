using DiffusionLab.Denoisers;
using DiffusionLab.Evaluation;
using DiffusionLab.Models;
using DiffusionLab.Tests.Runs;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Tests.Conditioning;

public class ClassifierGuidanceTests
{
    [Fact]
    public void GuidanceShiftsEpsilonByTheScaledClassifierGradient()
    {
        using var scope = torch.NewDisposeScope();
        var data = TinyData.Bars(n: 64, size: 8, classes: 4);
        using var clf = Classifier.Train(data, data, "bars", Directory.CreateTempSubdirectory("difflab-clf").FullName, epochs: 1, batchSize: 32, kind: "cnn", noiseSchedule: "linear", diffusionSteps: 50);
        Assert.True(clf.Info.Network.NoiseAware);
        Assert.Equal(5, clf.Info.NoisyHeldoutAccuracy!.Length);
        torch.manual_seed(2);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var x = torch.randn(2, 1, 8, 8);
        var labels = torch.tensor(new long[] { 1, 3 });
        var steps = torch.tensor(new long[] { 30, 30 });
        var cg = new ClassifierGuidance(clf, labels, 2.0);
        // the gradient against central finite differences of log p(y | x_t, t)
        var grad = cg.LogProbabilityGradient(x, steps, 50);
        double LogP(Tensor xi)
        {
            using var ng = torch.no_grad();
            var logp = nn.functional.log_softmax(clf.Network.Logits(xi, torch.full(2, 30 / 50f)), 1);
            return logp.gather(1, labels.view(-1, 1)).sum().item<float>();
        }
        foreach (var (i, j) in new[] { (2, 3), (5, 6), (0, 7) })
        {
            var e = torch.zeros_like(x);
            e[0, 0, i, j] = torch.tensor(1e-2f);
            double fd = (LogP(x + e) - LogP(x - e)) / 2e-2;
            Assert.Equal(fd, grad[0, 0, i, j].item<float>(), 2);
        }
        // ε̃ = ε_u − s √(1 − ᾱ_t) ∇ log p (Dhariwal & Nichol 2021, eq. 14), base = the null-class pass
        using var ng = torch.no_grad();
        var conditioned1 = model.With(cg);
        var guided = conditioned1.Predict(x, steps);
        var eps = model.PredictLabels(x, steps, torch.full_like(labels, IClassConditionalNetwork.NullLabel)).Epsilon;
        double sigma = Math.Sqrt(1 - model.Schedule.AlphaBar(30));
        Assert.True((guided.Epsilon - (eps - 2.0 * sigma * grad)).abs().max().item<float>() < 1e-4);
        var conditioned2 = model.With(new ClassifierGuidance(clf, labels, 0));
        Assert.True((conditioned2.Predict(x, steps).Epsilon - eps).abs().max().item<float>() < 1e-6);
        // a schedule of another length, or a classifier that is not noise-aware: clear errors
        using var other = new DiscreteModel(S.Linear(40), new Denoiser(net, Parameterisation.Epsilon));
        Assert.Contains("schedule", Assert.Throws<DiffusionLabException>(() => other.With(cg).Predict(x, 10)).Message);
        using var clean = Classifier.Train(data, data, "bars", Directory.CreateTempSubdirectory("difflab-clf").FullName, epochs: 1, batchSize: 32, kind: "cnn");
        Assert.Contains("`noiseSchedule`", Assert.Throws<DiffusionLabException>(() => new ClassifierGuidance(clean, labels, 1)).Template);
    }
}
