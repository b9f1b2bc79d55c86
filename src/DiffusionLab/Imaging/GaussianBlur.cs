
namespace DiffusionLab.Imaging;

/// <summary>
/// A separable Gaussian low-pass filter on image batches [B, C, H, W] with reflected borders; its complement
/// x − blur(x) is the matching high-pass. Used by hybrid images (Oliva et al. 2006; Geng et al. 2024).
/// </summary>
public sealed class GaussianBlur
{
    public GaussianBlur(int kernelSize, double sigma)
    {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new DiffusionLabException($"the blur kernel size must be odd and positive, got {kernelSize}");
        if (!(sigma > 0)) throw new DiffusionLabException($"the blur σ must be positive, got {sigma}");
        KernelSize = kernelSize;
        Sigma = sigma;
        int r = kernelSize / 2;
        var w = Enumerable.Range(-r, kernelSize).Select(i => Math.Exp(-i * i / (2 * sigma * sigma))).ToArray();
        double sum = w.Sum();
        Weights = w.Select(v => v / sum).ToArray();
    }

    /// <summary>The seed's filter (kernel 33, σ = 2 at 64 px) scaled to <paramref name="imageSize"/>: σ ∝ size, kernel ≈ 8σ, odd.</summary>
    public static GaussianBlur ScaledTo(int imageSize, double sigmaAt64 = 2.0)
    {
        double sigma = sigmaAt64 * imageSize / 64.0;
        return new GaussianBlur(DefaultKernelSize(sigma), sigma);
    }

    /// <summary>The odd kernel size covering ±4σ: 2⌈4σ⌉ + 1.</summary>
    public static int DefaultKernelSize(double sigma) => 2 * (int)Math.Ceiling(4 * sigma) + 1;

    public int KernelSize { get; }
    public double Sigma { get; }
    /// <summary>The normalised 1-D kernel (sums to 1).</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>The low-pass image.</summary>
    public Tensor LowPass(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        long c = x.shape[1];
        int r = KernelSize / 2;
        if (r >= x.shape[2] || r >= x.shape[3])
            throw new DiffusionLabException($"a blur kernel of {KernelSize} px is too large for {x.shape[2]}×{x.shape[3]} images");
        var k1 = torch.tensor(Weights.Select(v => (float)v).ToArray(), device: x.device).to(x.dtype);
        var kh = k1.view(1, 1, 1, KernelSize).expand(c, 1, 1, KernelSize);
        var kv = k1.view(1, 1, KernelSize, 1).expand(c, 1, KernelSize, 1);
        var padded = nn.functional.pad(x, [r, r, r, r], PaddingModes.Reflect);
        var y = nn.functional.conv2d(nn.functional.conv2d(padded, kh, groups: c), kv, groups: c);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The high-pass image x − lowpass(x).</summary>
    public Tensor HighPass(Tensor x)
    {
        using var low = LowPass(x);
        return x - low;
    }
}
