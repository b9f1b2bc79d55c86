
namespace DiffusionLab.Metrics;

/// <summary>
/// How much structure of the data survives in x_t: its correlation with x_0, and how far the
/// distribution of its image patches is from the N(0, I) it converges to.
/// </summary>
public static class StructureMetrics
{
    /// <summary>Pearson correlation between two tensors of the same size, over all entries.</summary>
    public static double Correlation(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        var x = a.flatten().to_type(ScalarType.Float64);
        var y = b.flatten().to_type(ScalarType.Float64);
        x = x - x.mean();
        y = y - y.mean();
        var denom = (x.square().sum() * y.square().sum()).sqrt().item<double>();
        return denom == 0 ? 0 : (x * y).sum().item<double>() / denom;
    }

    /// <summary>
    /// Correlation that q(x_t | x_0) implies on average: x_t = a·x_0 + b·ε with a = √ᾱ, b = √(1 − ᾱ) and ε
    /// independent of x_0, so corr = a·σ₀ / √(a²σ₀² + b²) where σ₀ is the standard deviation of x_0's entries.
    /// An independent check of <see cref="Correlation"/> on simulated x_t.
    /// </summary>
    public static double ExpectedCorrelation(double alphaBar, double x0Std) =>
        Math.Sqrt(alphaBar) * x0Std / Math.Sqrt(alphaBar * x0Std * x0Std + (1 - alphaBar));

    /// <summary>
    /// All overlapping p×p patches of an image [C, H, W] as rows of a [L, C·p·p] matrix: each is a sample of the
    /// local pixel distribution, which is exactly N(0, I) for pure noise and strongly correlated for an image.
    /// </summary>
    public static Tensor Patches(Tensor image, int patchSize)
    {
        if (image.dim() != 3) throw new ArgumentException("expected an image [C, H, W]");
        return BatchPatches(image.unsqueeze(0), patchSize).squeeze(0);
    }

    /// <summary>Batched <see cref="Patches"/>: [B, C, H, W] → [B, L, C·p·p].</summary>
    public static Tensor BatchPatches(Tensor images, int patchSize)
    {
        if (images.dim() != 4) throw new ArgumentException("expected images [B, C, H, W]");
        if (images.shape[2] < patchSize || images.shape[3] < patchSize)
            throw new DiffusionLabException($"image of {images.shape[3]}x{images.shape[2]} is smaller than the {patchSize}-pixel patches");
        return torch.nn.functional.unfold(images, patchSize).transpose(1, 2);
    }

    /// <summary>
    /// Random unit directions [D, K] for slicing, from a fixed seed so every x_t and every schedule is
    /// measured along the same projections.
    /// </summary>
    public static Tensor RandomDirections(int dim, int count, long seed)
    {
        var g = TensorOps.SeededGenerator(seed);
        var d = torch.randn(dim, count, generator: g, dtype: ScalarType.Float64);
        return d / d.norm(0, keepdim: true);
    }

    /// <summary>
    /// Sliced 1-Wasserstein distance between the rows of <paramref name="samples"/> [N, D] and N(0, I_D)
    /// (Bonneel et al. 2015): along each unit direction the projected standard normal is N(0, 1), so W1 is
    /// the mean |sorted projection − Φ⁻¹((i − ½)/N)| (the 1-D quantile form of W1), averaged over directions.
    /// </summary>
    public static double SlicedWassersteinToStandardNormal(Tensor samples, Tensor directions)
    {
        using var scope = torch.NewDisposeScope();
        return BatchSlicedWassersteinToStandardNormal(samples.unsqueeze(0), directions).item<double>();
    }

    /// <summary>Batched form: [B, N, D] sample sets → [B] distances (float64).</summary>
    public static Tensor BatchSlicedWassersteinToStandardNormal(Tensor samples, Tensor directions)
    {
        using var scope = torch.NewDisposeScope();
        // Projections and sorting in float32 (the data's precision; float64 sorting doubled the run time),
        // the distance accumulated in float64.
        var proj = samples.to_type(ScalarType.Float32).matmul(directions.to(samples.device).to_type(ScalarType.Float32));  // [B, N, K]
        var sorted = proj.sort(dim: 1).Values.to_type(ScalarType.Float64);
        long n = samples.shape[1];
        var p = (torch.arange(n, dtype: ScalarType.Float64, device: samples.device) + 0.5) / n;
        var quantiles = (2 * p - 1).erfinv() * Math.Sqrt(2);                                   // Φ⁻¹(p) = √2·erfinv(2p − 1)
        return (sorted - quantiles.view(1, n, 1)).abs().mean([1, 2]).MoveToOuterDisposeScope();
    }

    /// <summary>Batched <see cref="Correlation"/>: each of [B, …] against one reference → [B] (float64).</summary>
    public static Tensor BatchCorrelation(Tensor batch, Tensor reference)
    {
        using var scope = torch.NewDisposeScope();
        var x = batch.flatten(1).to_type(ScalarType.Float64);
        var y = reference.flatten().to_type(ScalarType.Float64).unsqueeze(0);
        x = x - x.mean([1], keepdim: true);
        y = y - y.mean();
        var denom = (x.square().sum(1) * y.square().sum()).sqrt();
        return ((x * y).sum(1) / denom).nan_to_num(0.0).MoveToOuterDisposeScope();
    }
}
