using DiffusionLab.Bridges;
using DiffusionLab.Models;
using DiffusionLab.Samplers.Bridge;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Bridges;

public class SchrodingerBridgeTests
{
    // q_0 = N(−1, 0.5²), q_1 = N(2, 1.5²) per coordinate, σ = 1
    private const double Mu0 = -1, A = 0.5, Mu1 = 2, B = 1.5, Sigma = 1;

    private static SchrodingerBridge ExactBridge() => new(new GaussianBridgeNetwork(Mu0, A, Mu1, B, Sigma), 2, Sigma);

    private static (double Mean, double Std) Moments(Tensor x) =>
        (x.mean().item<float>(), x.to_type(ScalarType.Float64).std(unbiased: false).item<double>());

    [Theory]
    [InlineData("bridge-sde", false)]
    [InlineData("bridge-sde", true)]
    [InlineData("bridge-ode", false)]
    [InlineData("bridge-ode", true)]
    public void ExactNetworkCarriesOneEndToTheOther(string sampler, bool backward)
    {
        // With the exact conditional means, every sampler must turn samples of one Gaussian into the other: 20,000 points
        // per coordinate (40,000 values) estimate a mean to about s/200 and a standard deviation to about s/280; the
        // tolerance 0.03 adds the discretisation error of 400 steps (O(1/N), measured below 0.01 for both integrators).
        using var scope = torch.NewDisposeScope();
        var bridge = ExactBridge();
        var g = new Generator(17);
        var (startMu, startStd, endMu, endStd) = backward ? (Mu1, B, Mu0, A) : (Mu0, A, Mu1, B);
        var start = torch.randn([20000, 2], generator: g) * startStd + startMu;
        var result = BridgeSamplers.Create(sampler, backward).Sample(bridge, start, 400, g);
        var (mean, std) = Moments(result.Samples);
        Assert.Equal(sampler == "bridge-sde" ? 400 : 800, result.FunctionEvaluations);
        Assert.True(Math.Abs(mean - endMu) < 0.03, $"mean {mean:F4}, expected {endMu}");
        Assert.True(Math.Abs(std - endStd) < 0.03, $"std {std:F4}, expected {endStd}");
    }

    [Fact]
    public void StochasticPathPassesThroughTheBridgeMarginalHalfWay()
    {
        // Halfway the bridge's marginal is N((μ_0 + μ_1)/2, Var(x_½)) with Var(x_½) = (a² + b² + 2c + σ²)/4, c the Gaussian
        // coupling's covariance: checks that the sampled process is the Schrödinger bridge, not only that it ends right.
        using var scope = torch.NewDisposeScope();
        var network = new GaussianBridgeNetwork(Mu0, A, Mu1, B, Sigma);
        var bridge = new SchrodingerBridge(network, 2, Sigma);
        var g = new Generator(4);
        var start = torch.randn([20000, 2], generator: g) * A + Mu0;
        Tensor? half = null;
        BridgeSamplers.Create("bridge-sde", backward: false).Sample(bridge, start, 400, g,
            (i, x) => { if (i == 200) half = x.clone().MoveToOuterDisposeScope(); });
        var (mean, std) = Moments(half!);
        Assert.True(Math.Abs(mean - (Mu0 + Mu1) / 2) < 0.03, $"mean {mean:F4}");
        Assert.True(Math.Abs(std - Math.Sqrt(network.Variance(0.5))) < 0.03, $"std {std:F4}, expected {Math.Sqrt(network.Variance(0.5)):F4}");
    }

    [Fact]
    public void DriftsAreTheBrownianBridgeDriftsForAKnownPair()
    {
        // A network that knows the pair (x_0, x_1) and the noise exactly: the forward drift must equal (x_1 − x_t)/(1 − t),
        // the backward one (x_t − x_0)/t and the velocity their mean (the Brownian bridge's own drifts, computed directly).
        using var scope = torch.NewDisposeScope();
        var x0 = torch.tensor(new float[] { 0.3f, -1.2f }).reshape(1, 2);
        var x1 = torch.tensor(new float[] { 2.0f, 0.5f }).reshape(1, 2);
        var z = torch.tensor(new float[] { 0.7f, -0.4f }).reshape(1, 2);
        const double t = 0.3, sigma = 0.8;
        var xt = SchrodingerBridge.BridgePoint(x0, x1, torch.full(1, t), z, sigma);
        var bridge = new SchrodingerBridge(new ConstantNetwork(torch.cat([x1 - x0, z], 1)), 2, sigma);
        AssertClose((x1 - xt) / (1 - t), bridge.ForwardDrift(xt, t));
        AssertClose((xt - x0) / t, bridge.BackwardDrift(xt, t));
        AssertClose(((x1 - xt) / (1 - t) + (xt - x0) / t) / 2, bridge.Velocity(xt, t));
        AssertClose(-(xt - ((1 - t) * x0 + t * x1)) / (sigma * sigma * t * (1 - t)), bridge.Score(xt, t));
    }

    [Fact]
    public void TrainedOnMinibatchCouplingsItTransportsOneGaussianToAnother()
    {
        // End to end: the [SF]²M loss with Sinkhorn couplings trains a small residual MLP whose bridge carries
        // N(0, I) to N((3, −1), 0.5²I) and back, with both samplers. After 2,000 steps of 256 the network's error, not the
        // sampler's, is the limit: measured at most 0.07 in any mean or standard deviation; 0.15 is 5 % of the distance
        // between the two means.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var network = new ToyMlp(new ToyMlpConfig(DataDim: 2, Width: 64, Depth: 2, TimeDim: 32, OutputDim: 4));
        var bridge = new SchrodingerBridge(network, 2, sigma: 1);
        var g = new Generator(1);
        var targetMean = torch.tensor(new float[] { 3, -1 });
        var optimizer = torch.optim.Adam(network.parameters(), lr: 3e-3);
        for (int step = 0; step < 2000; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            if (step == 1500) foreach (var group in optimizer.ParamGroups) group.LearningRate = 3e-4; // a step decay for the last quarter
            var source = torch.randn([256, 2], generator: g);
            var target = torch.randn([256, 2], generator: g) * 0.5 + targetMean;
            optimizer.zero_grad();
            var loss = bridge.Loss(source, target, g);
            loss.backward();
            optimizer.step();
        }
        network.eval();
        foreach (var sampler in BridgeSamplers.Names)
        {
            int steps = sampler == "bridge-sde" ? 100 : 50;
            var forward = BridgeSamplers.Create(sampler, backward: false).Sample(bridge, torch.randn([4000, 2], generator: g), steps, g).Samples;
            AssertMoments(forward, [3, -1], 0.5, $"{sampler} forward");
            var back = BridgeSamplers.Create(sampler, backward: true).Sample(bridge, torch.randn([4000, 2], generator: g) * 0.5 + targetMean, steps, g).Samples;
            AssertMoments(back, [0, 0], 1, $"{sampler} backward");
        }
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Contains("σ must be positive", Assert.Throws<DiffusionLabException>(() => new SchrodingerBridge(new ConstantNetwork(torch.zeros(1, 4)), 2, 0)).Message);
        var bridge = new SchrodingerBridge(new ConstantNetwork(torch.zeros(1, 3)), 2, 1);
        Assert.Contains("must return [B, 4]", Assert.Throws<DiffusionLabException>(() => bridge.Velocity(torch.zeros(1, 2), 0.5)).Message);
        Assert.Contains("points [B, 2]", Assert.Throws<DiffusionLabException>(() => bridge.Velocity(torch.zeros(1, 3), 0.5)).Message);
        Assert.Contains("t in [0, 1)", Assert.Throws<DiffusionLabException>(() => bridge.ForwardDrift(torch.zeros(1, 2), 1)).Message);
        Assert.Contains("unknown bridge sampler", Assert.Throws<DiffusionLabException>(() => BridgeSamplers.Create("em", false)).Message);
    }

    private static void AssertMoments(Tensor x, double[] mean, double std, string what)
    {
        var m = x.mean([0]).data<float>().ToArray();
        var s = x.std(0, unbiased: false).data<float>().ToArray();
        for (int d = 0; d < mean.Length; d++)
        {
            Assert.True(Math.Abs(m[d] - mean[d]) < 0.15, $"{what}, coordinate {d}: mean {m[d]:F3}, expected {mean[d]}");
            Assert.True(Math.Abs(s[d] - std) < 0.15, $"{what}, coordinate {d}: std {s[d]:F3}, expected {std}");
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual) =>
        Assert.True((expected - actual).abs().max().item<float>() < 1e-5, $"expected {string.Join(", ", expected.data<float>().ToArray())}, got {string.Join(", ", actual.data<float>().ToArray())}");

    /// <summary>Returns the same row for every input point.</summary>
    private sealed class ConstantNetwork(Tensor row) : nn.Module<Tensor, Tensor, Tensor>("ConstantNetwork")
    {
        public override Tensor forward(Tensor x, Tensor t) => row.expand(x.shape[0], row.shape[1]).clone();
    }
}
