
namespace DiffusionLab.Models;

/// <summary>
/// The transformer-style sinusoidal embedding of a scalar time (Vaswani et al. 2017, §3.5; used for t by
/// Ho et al. 2020, App. B). Inputs are normalised times in [0, 1], scaled by <c>scale</c> (1000 = the
/// DDPM step count) so the frequencies resolve single steps.
/// </summary>
public static class SinusoidalTimeEmbedding
{
    public static Tensor Embed(Tensor t, int dim, double scale = 1000, double maxPeriod = 10000)
    {
        if (dim % 2 != 0) throw new ArgumentException("embedding dimension must be even", nameof(dim));
        int half = dim / 2;
        // freq_k = maxPeriod^(−k/half), k = 0..half−1
        var freqs = torch.exp(-Math.Log(maxPeriod) * torch.arange(half, dtype: ScalarType.Float32, device: t.device) / half);
        var args = (t.to_type(ScalarType.Float32) * (float)scale).unsqueeze(1) * freqs.unsqueeze(0);
        return torch.cat([args.cos(), args.sin()], 1);
    }
}
