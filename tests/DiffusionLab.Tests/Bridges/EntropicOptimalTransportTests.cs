using DiffusionLab.Bridges;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Bridges;

public class EntropicOptimalTransportTests
{
    [Fact]
    public void PlanHasTheTwoUniformMarginals()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        var x = torch.randn([50, 2], generator: g);
        var y = torch.randn([70, 2], generator: g) * 2 + 1;
        using var plan = EntropicOptimalTransport.Plan(x, y, epsilon: 0.5, tolerance: 1e-8);
        Assert.True(plan.MarginalError <= 1e-8, $"rows off by {plan.MarginalError} after {plan.Iterations} iterations");
        var p = plan.Plan.to_type(ScalarType.Float64);
        Assert.Equal(1.0, p.sum().item<double>(), 9);
        Assert.True((p.sum(1) * 50 - 1).abs().max().item<double>() < 1e-7);
        Assert.True((p.sum(dim: 0) * 70 - 1).abs().max().item<double>() < 1e-7);
    }

    [Fact]
    public void SmallRegularisationApproachesTheSortedMatchingOfOneDimensionalOptimalTransport()
    {
        // In one dimension the optimal plan for |x − y|² pairs the k-th smallest x with the k-th smallest y (a second,
        // independent method); as ε → 0 the entropic plan concentrates on that matching. Two shuffled grids, x_k = 0.5k and
        // y_k = k − 3: swapping two neighbours' partners costs 2·0.5·1 = 1 = 10ε, so π_ij·π_kl/(π_il·π_kj) = e¹⁰ and each
        // off-partner cell next to a matched one holds about e⁻⁵ of the row: about 1 − 2e⁻⁵ = 0.987 stays on the partner.
        // (A smaller ε concentrates it further but slows Sinkhorn's convergence, which near a permutation is geometric
        // with a rate that tends to 1.)
        using var scope = torch.NewDisposeScope();
        const int n = 20;
        var g = new Generator(5);
        var x = (torch.randperm(n, generator: g).to_type(ScalarType.Float64) * 0.5).unsqueeze(1);
        var y = (torch.randperm(n, generator: g).to_type(ScalarType.Float64) - 3).unsqueeze(1);
        using var plan = EntropicOptimalTransport.Plan(x, y, epsilon: 0.1, tolerance: 1e-4, maxIterations: 20000);
        var rankX = x.squeeze(1).argsort().argsort();
        var partner = y.squeeze(1).argsort().index_select(0, rankX);
        var onPartner = plan.Plan.gather(1, partner.unsqueeze(1)).squeeze(1) * n;
        Assert.True(plan.MarginalError <= 1e-4, $"not converged after {plan.Iterations} iterations: rows off by {plan.MarginalError}");
        Assert.True(onPartner.min().item<double>() > 0.98, $"smallest share of a row on its sorted partner: {onPartner.min().item<double>():F5}");
    }

    [Fact]
    public void CouplingOfTwoGaussiansMatchesTheClosedForm()
    {
        // The static Schrödinger bridge between N(0, a²) and N(0, b²) for σW has cross-covariance
        // c = (√(σ⁴ + 4a²b²) − σ²)/2 (GaussianBridgeNetwork); the plan at ε = 2σ² between 1,000 draws of each, standardised to
        // exact moments, must reproduce it. The finite-sample error of an empirical covariance is about
        // √((a²b² + c²)/n) ≈ 0.08 here for independent draws; the plan's is smaller (the moments are exact and the plan
        // averages over many pairs): measured 0.004 or less at the three σ below, and 0.03 bounds it with margin.
        using var scope = torch.NewDisposeScope();
        const int n = 1000;
        var report = new List<string>();
        double worst = 0;
        foreach (var (sigma, seed) in new[] { (0.5, 1L), (1.0, 2L), (2.0, 3L) })
        {
            const double a = 1, b = 2;
            var g = new Generator((ulong)seed);
            var x = Standardised(torch.randn([n, 1], dtype: ScalarType.Float64, generator: g)) * a;
            var y = Standardised(torch.randn([n, 1], dtype: ScalarType.Float64, generator: g)) * b;
            using var plan = EntropicOptimalTransport.Plan(x, y, epsilon: 2 * sigma * sigma, tolerance: 1e-6, maxIterations: 20000);
            var covariance = x.t().matmul(plan.Plan).matmul(y).item<double>();
            double expected = new GaussianBridgeNetwork(0, a, 0, b, sigma).Coupling;
            report.Add($"σ = {sigma}: plan covariance {covariance:F4}, closed form {expected:F4} ({plan.Iterations} iterations)");
            worst = Math.Max(worst, Math.Abs(covariance - expected));
        }
        Assert.True(worst < 0.03, string.Join("; ", report));
    }

    [Fact]
    public void PairsAreDrawnInProportionToThePlan()
    {
        using var scope = torch.NewDisposeScope();
        var plan = torch.tensor(new[] { 0.1, 0.4, 0.3, 0.2 }, dtype: ScalarType.Float64).reshape(2, 2);
        var (rows, columns) = EntropicOptimalTransport.SamplePairs(plan, 40000, new Generator(9));
        var cell = (rows * 2 + columns).bincount(null, 4).to_type(ScalarType.Float64) / 40000;
        // a binomial share's standard error is at most √(0.25/40000) = 0.0025; 0.01 is four of them
        Assert.True((cell - plan.reshape(-1)).abs().max().item<double>() < 0.01, $"drawn {string.Join(", ", cell.data<double>().ToArray())}");
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros(3, 2);
        Assert.Contains("[n, d] and [m, d]", Assert.Throws<DiffusionLabException>(() => EntropicOptimalTransport.Plan(x, torch.zeros(3, 3), 1)).Message);
        Assert.Contains("positive and finite", Assert.Throws<DiffusionLabException>(() => EntropicOptimalTransport.Plan(x, x, 0)).Message);
        Assert.Contains("positive and finite", Assert.Throws<DiffusionLabException>(() => EntropicOptimalTransport.Plan(x, x, double.NaN)).Message);
    }

    private static Tensor Standardised(Tensor v) => (v - v.mean()) / v.std(unbiased: false);
}
