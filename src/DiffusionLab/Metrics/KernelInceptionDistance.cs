
namespace DiffusionLab.Metrics;

/// <summary>KID: the mean of the unbiased MMD² estimates over random subsets, and their standard error.</summary>
public sealed record KidResult(double Mean, double StandardError, int Subsets, int SubsetSize);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018, §5 / App. A): the unbiased estimator of the squared MMD with
/// the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³,
/// MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/m² Σ_{i,j} k(xᵢ, yⱼ),
/// averaged over <c>subsets</c> random subsets of size m drawn without replacement (the reference implementation's
/// protocol: 100 subsets of 1,000, or fewer when the sets are smaller).
/// </summary>
public static class KernelInceptionDistance
{
    public static KidResult Compute(Tensor real, Tensor fake, int subsets = 100, int subsetSize = 1000, long seed = 0)
    {
        PointSets.Check(real, fake, "KID", "real", "fake");
        int m = (int)Math.Min(subsetSize, Math.Min(real.shape[0], fake.shape[0]));
        if (m < 2) throw new DiffusionLabException("KID needs at least 2 samples in each set");
        if (subsets < 1) throw new DiffusionLabException("KID needs at least one subset");
        using var scope = torch.NewDisposeScope();
        var x = real.detach().cpu().to_type(ScalarType.Float64);
        var y = fake.detach().cpu().to_type(ScalarType.Float64);
        var rng = new Random((int)seed);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            using var inner = torch.NewDisposeScope();
            var xi = x.index_select(0, torch.tensor(Pick(rng, (int)x.shape[0], m)));
            var yi = y.index_select(0, torch.tensor(Pick(rng, (int)y.shape[0], m)));
            values[s] = UnbiasedMmd2(xi, yi);
        }
        double mean = values.Average();
        double sd = subsets > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (subsets - 1)) : 0;
        return new KidResult(mean, sd / Math.Sqrt(subsets), subsets, m);
    }

    private static long[] Pick(Random rng, int n, int m)
    {
        var idx = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(idx);
        return idx.Take(m).Select(i => (long)i).ToArray();
    }

    /// <summary>The unbiased MMD² of two equal-size sets [m, d] with the cubic polynomial kernel.</summary>
    public static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        long m = x.shape[0];
        double d = x.shape[1];
        Tensor K(Tensor a, Tensor b) => (a.matmul(b.t()) / d + 1).pow(3);
        var kxx = K(x, x);
        var kyy = K(y, y);
        var kxy = K(x, y);
        double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>();
        double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>();
        double sxy = kxy.sum().item<double>();
        return sxx / (m * (m - 1)) + syy / (m * (m - 1)) - 2 * sxy / (m * m);
    }
}
