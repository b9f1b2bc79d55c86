using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

/// <summary>
/// The counter-hash dropout against what inverted dropout must be: the vector fill equals the scalar hash element by
/// element (the tail past the last whole vector included), the keep rate is 1 − p within the binomial's spread,
/// neighbouring elements are uncorrelated, kept values are x/(1 − p) and their gradient 1/(1 − p), a seed reproduces its
/// mask and two calls differ, and evaluation mode is the identity.
/// </summary>
public class CounterHashDropoutTests
{
    [Fact]
    public void VectorFillEqualsTheScalarHashElementByElement()
    {
        const double p = 0.3;
        var mask = new float[1003]; // not a multiple of any vector width: the scalar tail runs too
        CounterHashDropout.Fill(mask, 0x0123456789ABCDEFUL, p);
        uint threshold = CounterHashDropout.KeepThreshold(p);
        float scale = (float)(1 / (1 - p));
        for (int i = 0; i < mask.Length; i++)
            Assert.Equal(CounterHashDropout.Hash(0x0123456789ABCDEFUL, (uint)i) < threshold ? scale : 0f, mask[i]);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void KeepRateIsOneMinusPWithinTheBinomialSpreadAndNeighboursAreUncorrelated(double p)
    {
        const int n = 1 << 22;
        var mask = new float[n];
        CounterHashDropout.Fill(mask, 42, p);
        long kept = 0, bothKept = 0;
        for (int i = 0; i < n; i++)
        {
            if (mask[i] != 0) kept++;
            if (i > 0 && mask[i] != 0 && mask[i - 1] != 0) bothKept++;
        }
        double q = 1 - p;
        double sd = Math.Sqrt(n * p * q);
        Assert.InRange(kept, n * q - 5 * sd, n * q + 5 * sd);
        // Independent neighbours: P(both kept) = q²; the count of n − 1 pairs has variance below (n − 1)·q²(1 − q²)·3
        // (each pair overlaps two others), so 5 of that spread is a bound that fails only if they are correlated.
        double pairSd = Math.Sqrt(3 * (n - 1) * q * q * (1 - q * q));
        Assert.InRange(bothKept, (n - 1) * q * q - 5 * pairSd, (n - 1) * q * q + 5 * pairSd);
    }

    [Fact]
    public void KeptValuesAreScaledAndTheGradientIsTheMask()
    {
        const double p = 0.25;
        var dropout = new CounterHashDropout(p);
        dropout.train();
        torch.manual_seed(7);
        var x = torch.rand([4, 8, 16, 16]) + 0.5; // no zeros: a zero output means dropped
        x.requires_grad = true;
        var y = dropout.call(x);
        y.sum().backward();
        var kept = y.ne(0);
        Assert.True(torch.allclose(y.masked_select(kept), x.detach().masked_select(kept) / (1 - p), rtol: 1e-6, atol: 0));
        var expectedGrad = kept.to(ScalarType.Float32) / (1 - p);
        Assert.True(torch.allclose(x.grad!, expectedGrad, rtol: 1e-6, atol: 0));
        double rate = kept.to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(rate, 0.75 - 0.05, 0.75 + 0.05);
    }

    [Fact]
    public void SeedReproducesTheMaskAndSuccessiveCallsDiffer()
    {
        var dropout = new CounterHashDropout(0.5);
        dropout.train();
        var x = torch.ones([2, 3, 32, 32]);
        torch.manual_seed(3);
        var first = dropout.call(x);
        var second = dropout.call(x);
        torch.manual_seed(3);
        var again = dropout.call(x);
        Assert.True(torch.allclose(first, again, rtol: 0, atol: 0));
        Assert.False(torch.allclose(first, second, rtol: 0, atol: 0));
    }

    [Fact]
    public void Bf16InputKeepsItsTypeAndEvaluationIsTheIdentity()
    {
        var dropout = new CounterHashDropout(0.1);
        dropout.train();
        var x = torch.randn([2, 4, 8, 8]).to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, dropout.call(x).dtype);
        dropout.eval();
        var y = torch.randn([2, 4, 8, 8]);
        Assert.True(torch.allclose(y, dropout.call(y), rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void BadProbabilityIsAClearError(double p)
    {
        var e = Assert.Throws<DiffusionLabException>(() => new CounterHashDropout(p));
        Assert.Contains("dropout probability", e.Message);
    }
}
