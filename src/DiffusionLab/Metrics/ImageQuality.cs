namespace DiffusionLab.Metrics;

/// <summary>
/// Full-reference image quality for image batches [B, C, H, W] on a common value range: PSNR and SSIM, each per image
/// (the reference and the test image at the same index). Both compare pixels, so they reward a blur that keeps the mean
/// and punish a sharp picture that moves an edge by one pixel; a denoising comparison shows the pictures beside them.
/// </summary>
public static class ImageQuality
{
    /// <summary>
    /// Peak signal-to-noise ratio, 10·log10(R² / MSE) with R the range of the values (2 for images in [−1, 1]); +∞ where
    /// the images are equal.
    /// </summary>
    public static double[] Psnr(Tensor reference, Tensor test, double range = 2.0)
    {
        CheckPair(reference, test);
        if (!(range > 0)) throw new DiffusionLabException($"`range` must be positive, got {range}");
        using var scope = torch.NewDisposeScope();
        var mse = (reference.to_type(ScalarType.Float64) - test.to_type(ScalarType.Float64)).square().flatten(1).mean([1]);
        return mse.data<double>().ToArray().Select(m => m == 0 ? double.PositiveInfinity : 10 * Math.Log10(range * range / m)).ToArray();
    }

    /// <summary>
    /// Structural similarity (Wang, Bovik, Sheikh &amp; Simoncelli 2004, eq. 13): local means, variances and covariance under
    /// an 11×11 Gaussian window of σ = 1.5 (their §III-C), SSIM = (2μ_xμ_y + C₁)(2σ_xy + C₂) / ((μ_x² + μ_y² + C₁)(σ_x² + σ_y² + C₂))
    /// with C₁ = (0.01R)², C₂ = (0.03R)², averaged over the positions where the window fits (no padding, as in their code)
    /// and over the channels. An image smaller than the window uses a window of its size.
    /// </summary>
    public static double[] Ssim(Tensor reference, Tensor test, double range = 2.0)
    {
        CheckPair(reference, test);
        if (!(range > 0)) throw new DiffusionLabException($"`range` must be positive, got {range}");
        using var scope = torch.NewDisposeScope();
        var x = reference.to_type(ScalarType.Float64);
        var y = test.to_type(ScalarType.Float64);
        long c = x.shape[1];
        int size = (int)Math.Min(11, Math.Min(x.shape[2], x.shape[3]));
        if (size % 2 == 0) size--;
        int r = size / 2;
        var w1 = Enumerable.Range(-r, size).Select(i => Math.Exp(-i * i / (2 * 1.5 * 1.5))).ToArray();
        double sum = w1.Sum();
        var k = torch.tensor(w1.Select(v => v / sum).ToArray(), dtype: ScalarType.Float64, device: x.device);
        var window = torch.outer(k, k).view(1, 1, size, size).expand(c, 1, size, size);
        Tensor Filter(Tensor t) => nn.functional.conv2d(t, window, groups: c);
        var mx = Filter(x);
        var my = Filter(y);
        var vx = Filter(x * x) - mx * mx;
        var vy = Filter(y * y) - my * my;
        var cxy = Filter(x * y) - mx * my;
        double c1 = Math.Pow(0.01 * range, 2), c2 = Math.Pow(0.03 * range, 2);
        var map = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        return map.flatten(1).mean([1]).data<double>().ToArray();
    }

    private static void CheckPair(Tensor reference, Tensor test)
    {
        if (reference.dim() != 4 || !reference.shape.SequenceEqual(test.shape))
            throw new DiffusionLabException($"image quality compares two batches of the same shape [B, C, H, W], got [{string.Join(", ", reference.shape)}] and [{string.Join(", ", test.shape)}]");
    }
}
