using DiffusionLab.Denoisers;
using DiffusionLab.Losses;
using DiffusionLab.Models;
using DiffusionLab.Sde;
using DiffusionLab.Tests.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Losses;

public class ScoreLossTests
{
    private const double DataStd = 0.7;

    private static Tensor GaussianData(long n, long[] sampleShape, int seed)
    {
        long[] shape = [n, .. sampleShape];
        return torch.randn(shape, generator: new Generator((ulong)seed)) * (float)DataStd;
    }

    public static TheoryData<string> LossNames => new() { "dsm", "ism", "ssm-gaussian", "ssm-rademacher" };

    private static IScoreLoss Loss(string name) => name switch
    {
        "dsm" => new DenoisingScoreMatching(),
        "ism" => new ImplicitScoreMatching(),
        "ssm-gaussian" => new SlicedScoreMatching(ProjectionKind.Gaussian),
        "ssm-rademacher" => new SlicedScoreMatching(ProjectionKind.Rademacher),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(LossNames))]
    public void TheExactScoreHasALowerLossThanAWrongOne(string name)
    {
        // Data N(0, s²I): the score of p_t is −x/(α²s² + σ²). Scaling it by 1.5 or 0.6 must cost more, on the same draws.
        var sde = new VpSde();
        var loss = Loss(name);
        using var scope = torch.NewDisposeScope();
        var x0 = GaussianData(8192, [2], 1);
        double Value(double scale) => loss.Compute(GaussianScoreNetwork.Model(sde, [0.0], DataStd, scale), x0, new Generator(2)).item<float>();
        double exact = Value(1.0), over = Value(1.5), under = Value(0.6);
        Assert.True(exact < over, $"{name}: exact {exact} vs 1.5×score {over}");
        Assert.True(exact < under, $"{name}: exact {exact} vs 0.6×score {under}");
    }

    [Fact]
    public void DenoisingScoreMatchingOfTheExactScoreIsItsClosedFormMinimum()
    {
        // With x_0 ~ N(0, s²I): σ s* + ε = (α²s² ε − σα x_0)/v, v = α²s² + σ², whose entries are N(0, q) with q = α²s²/v.
        // So a sample's loss is q(t)·χ²_D: the batch mean estimates D·E_t[q] and has variance (2D·E[q²] + D²·Var q)/B.
        var sde = new VpSde();
        using var scope = torch.NewDisposeScope();
        const int b = 16000, dims = 2;
        var x0 = GaussianData(b, [dims], 3);
        double loss = new DenoisingScoreMatching().Compute(GaussianScoreNetwork.Model(sde, [0.0], DataStd), x0, new Generator(4)).item<float>();
        const int m = 20000;
        var t = torch.tensor(Enumerable.Range(0, m).Select(i => 1e-5 + (i + 0.5) / m * (1 - 1e-5)).ToArray(), dtype: ScalarType.Float64);
        var a2s2 = sde.MeanCoefficient(t).square() * (DataStd * DataStd);
        var q = a2s2 / (a2s2 + sde.MarginalStd(t).square());
        double eq = q.mean().item<double>(), eq2 = q.square().mean().item<double>();
        double expected = dims * eq, se = Math.Sqrt((2 * dims * eq2 + dims * dims * (eq2 - eq * eq)) / b);
        Assert.InRange(loss, expected - 5 * se, expected + 5 * se);
    }

    [Fact]
    public void DenoisingScoreMatchingOfAnEpsilonNetworkIsItsNoiseRegression()
    {
        var sde = new SubVpSde();
        using var scope = torch.NewDisposeScope();
        var x0 = GaussianData(512, [2, 3], 5);
        var scoreModel = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        var epsModel = GaussianScoreNetwork.EpsilonModel(sde, [0.0], DataStd);
        var dsm = new DenoisingScoreMatching();
        double viaScore = dsm.Compute(scoreModel, x0, new Generator(6)).item<float>();
        double viaEps = dsm.Compute(epsModel, x0, new Generator(6)).item<float>();
        // The same draws by hand: mean over the batch of ‖ε̂ − ε‖² summed over data dims.
        var p = ScoreLossSampling.Draw(sde, x0, ScoreLossSampling.DefaultMinTime, new Generator(6));
        double manual = (epsModel.Predict(p.Xt, p.Time).Epsilon - p.Noise).square().sum().item<float>() / 512;
        Assert.Equal(manual, viaEps, manual * 1e-5);
        Assert.Equal(manual, viaScore, manual * 1e-4);
    }

    [Fact]
    public void ImplicitTraceIsTheAnalyticDivergence()
    {
        // tr ∇_x s*(x) = −D/(α²s² + σ²) for the exact Gaussian score; checked on [B, 2, 3] data (D = 6).
        var sde = new VpSde();
        using var scope = torch.NewDisposeScope();
        var model = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        var x = GaussianData(16, [2, 3], 7).requires_grad_(true);
        var t = torch.linspace(0.01, 1, 16);
        var trace = ImplicitScoreMatching.Trace(model.Score(x, t), x);
        var expected = -6 / (sde.MeanCoefficient(t).square() * (DataStd * DataStd) + sde.MarginalStd(t).square());
        Assert.True((trace - expected).abs().max().item<float>() < 1e-4 * expected.abs().max().item<float>(), $"{string.Join(",", trace.data<float>().ToArray())} vs {string.Join(",", expected.to_type(ScalarType.Float32).data<float>().ToArray())}");
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void LossesBackpropagateIntoANetwork(string name)
    {
        torch.manual_seed(0);
        using var net = new ToyMlp(new ToyMlpConfig(Width: 16, Depth: 1, TimeDim: 8));
        var model = new ScoreModel(new VeSde(), new Denoiser(net, Parameterisation.Epsilon));
        using var scope = torch.NewDisposeScope();
        var loss = Loss(name).Compute(model, GaussianData(32, [2], 8), new Generator(9));
        Assert.Empty(loss.shape);
        Assert.True(double.IsFinite(loss.item<float>()));
        loss.backward();
        var grads = net.parameters().Select(q => q.grad).ToList();
        Assert.All(grads, g => Assert.NotNull(g));
        Assert.Contains(grads, g => g!.abs().sum().item<float>() > 0);
        net.zero_grad();
    }

    [Fact]
    public void GradientLossesWorkUnderNoGradAndSlicedAgreesWithImplicitOnAverage()
    {
        // E_v[vᵀ J v] = tr J, so with many projections SSM approaches ISM on the same x_t.
        var sde = new VpSde();
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var model = GaussianScoreNetwork.Model(sde, [0.0], DataStd);
        var x0 = GaussianData(4096, [2], 10);
        double ism = new ImplicitScoreMatching().Compute(model, x0, new Generator(11)).item<float>();
        double ssm = new SlicedScoreMatching(projections: 8).Compute(model, x0, new Generator(11)).item<float>();
        Assert.True(ism < 0, $"ism {ism}"); // at the optimum ISM equals −½λ E‖s*‖² < 0
        Assert.Equal(ism, ssm, 0.05 * Math.Abs(ism));
    }

    [Fact]
    public void BadArgumentsThrowDiffusionLabException()
    {
        var model = GaussianScoreNetwork.Model(new VpSde(), [0.0], DataStd);
        using var flat = torch.zeros(8);
        Assert.Throws<DiffusionLabException>(() => new DenoisingScoreMatching().Compute(model, flat, null));
        using var x0 = torch.zeros(8, 2);
        Assert.Throws<DiffusionLabException>(() => new DenoisingScoreMatching(minTime: 2).Compute(model, x0, null));
        Assert.Throws<DiffusionLabException>(() => new SlicedScoreMatching(projections: 0));
    }
}
