
namespace DiffusionLab.Sde;

/// <summary>The isotropic Gaussian prior N(0, s² I) that every SDE here ends in: sampling and the per-sample log density.</summary>
internal static class GaussianPrior
{
    /// <summary>z = s·n, n ~ N(0, I), float32 on the CPU like <c>torch.randn</c>.</summary>
    public static Tensor Sample(long[] shape, double std, Generator? generator)
    {
        if (shape.Length < 1 || shape[0] < 1) throw new DiffusionLabException("prior sample shape needs a batch dimension of at least 1");
        using var scope = torch.NewDisposeScope();
        var z = torch.randn(shape, generator: generator);
        return (std == 1.0 ? z : z * std).MoveToOuterDisposeScope();
    }

    /// <summary>log N(z; 0, s² I) = −N/2·log(2πs²) − ‖z‖²/(2s²) per sample, N the number of non-batch elements (score_sde's prior_logp).</summary>
    public static Tensor LogProb(Tensor z, double std)
    {
        using var scope = torch.NewDisposeScope();
        long b = z.shape[0];
        long n = b == 0 ? 0 : z.numel() / b;
        var sq = z.reshape(b, -1).square().sum(1);
        var logp = -0.5 * n * Math.Log(2 * Math.PI * std * std) - sq / (2 * std * std); // log N(z; 0, s²I), the Gaussian log density summed over the N coordinates
        return logp.MoveToOuterDisposeScope();
    }
}
