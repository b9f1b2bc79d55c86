
namespace DiffusionLab.Metrics;

/// <summary>Mean and covariance of a set of feature vectors, in float64 (what FID compares).</summary>
public sealed record FeatureStatistics(double[] Mean, double[,] Covariance, int Count)
{
    public int Dimension => Mean.Length;

    /// <summary>μ and the unbiased covariance Σ = (X − μ)ᵀ(X − μ)/(N − 1) of features [N, D].</summary>
    public static FeatureStatistics FromFeatures(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new DiffusionLabException($"feature statistics need at least 2 feature vectors as [N, D], got [{string.Join(", ", features.shape)}]");
        using var scope = torch.NewDisposeScope();
        var x = features.detach().cpu().to_type(ScalarType.Float64);
        if (!x.isfinite().all().item<bool>()) throw new DiffusionLabException("features contain NaN or infinity");
        long n = x.shape[0], d = x.shape[1];
        var mu = x.mean([0]);
        var centred = x - mu;
        var cov = centred.t().matmul(centred) / (n - 1);
        return new FeatureStatistics(mu.data<double>().ToArray(), ToArray2(cov, (int)d), (int)n);
    }

    internal static double[,] ToArray2(Tensor m, int d)
    {
        var flat = m.contiguous().data<double>().ToArray();
        var a = new double[d, d];
        Buffer.BlockCopy(flat, 0, a, 0, flat.Length * sizeof(double));
        return a;
    }

    internal Tensor MeanTensor() => torch.tensor(Mean, dtype: ScalarType.Float64);

    internal Tensor CovarianceTensor()
    {
        var flat = new double[Dimension * Dimension];
        Buffer.BlockCopy(Covariance, 0, flat, 0, flat.Length * sizeof(double));
        return torch.tensor(flat, [Dimension, Dimension], dtype: ScalarType.Float64);
    }
}

/// <summary>
/// The Fréchet distance between Gaussians N(μ₁, Σ₁) and N(μ₂, Σ₂) (Dowson &amp; Landau 1982; FID of Heusel et al. 2017, eq. 6):
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}). The trace of the matrix square root is computed in float64 from the
/// symmetric form Tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = Σ √λᵢ with eigen-decompositions of symmetric PSD matrices
/// (eigenvalues clamped at 0), which avoids the complex-valued, ill-conditioned general sqrtm of Σ₁Σ₂.
/// </summary>
public static class FrechetDistance
{
    public static double Compute(FeatureStatistics a, FeatureStatistics b)
    {
        if (a.Dimension != b.Dimension)
            throw new DiffusionLabException($"FID: feature dimensions differ ({a.Dimension} vs {b.Dimension}); use the same feature network for both sets");
        using var scope = torch.NewDisposeScope();
        var mu1 = a.MeanTensor();
        var mu2 = b.MeanTensor();
        var s1 = a.CovarianceTensor();
        var s2 = b.CovarianceTensor();
        double meanTerm = (mu1 - mu2).square().sum().item<double>();
        var sqrt1 = SqrtPsd(s1);
        var inner = sqrt1.matmul(s2).matmul(sqrt1);
        inner = (inner + inner.t()) / 2; // symmetric up to rounding; make it exactly so for eigh
        var eig = torch.linalg.eigvalsh(inner).clamp_min(0);
        double traceSqrt = eig.sqrt().sum().item<double>();
        double fid = meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceSqrt;
        return Math.Max(fid, 0); // rounding can leave −1e-12 for identical statistics
    }

    /// <summary>FID of two feature sets [N, D].</summary>
    public static double Compute(Tensor featuresA, Tensor featuresB) =>
        Compute(FeatureStatistics.FromFeatures(featuresA), FeatureStatistics.FromFeatures(featuresB));

    /// <summary>The square root of a symmetric positive semi-definite matrix via its eigen-decomposition, V·diag(√max(λ, 0))·Vᵀ.</summary>
    internal static Tensor SqrtPsd(Tensor m)
    {
        var sym = (m + m.t()) / 2;
        var (values, vectors) = torch.linalg.eigh(sym);
        return vectors.matmul(torch.diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
    }
}
