using DiffusionLab.Denoisers;
using DiffusionLab.Imaging;
using DiffusionLab.Metrics;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Schedules;

namespace DiffusionLab.Editing;

/// <summary>
/// CS180 project 5 part A §1.1–1.4 on any trained diffusion model: a clean image is noised to level t with q(x_t | x_0)
/// (Ho et al. 2020, eq. 4; one noise draw shared by every level, so levels differ only in t), then denoised three ways —
/// a Gaussian blur of x_t (the classical baseline of §1.2), the model's one-step estimate
/// x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t (§1.3), and iterative denoising (§1.4): ancestral DDPM steps from t down the
/// strided steps below it (<see cref="DdpmSampler.SampleFrom"/>, the update CS180 writes out with α_t = ᾱ_t/ᾱ_{t'}).
/// </summary>
public static class DenoisingComparison
{
    /// <summary>
    /// The blur baseline's σ at 64 px, scaled with the image (<see cref="GaussianBlur.ScaledTo"/>): the assignment leaves
    /// it open; σ = 2 on DeepFloyd's 64 px stage is the value its hybrid-image part uses, and at 32 px (σ = 1) it removes
    /// most of the noise at t = 250 while keeping an emoji's outline.
    /// </summary>
    public const double BlurSigmaAt64 = 2.0;

    /// <summary>One level's images [B, C, H, W], each clamped to [−1, 1] as a picture shows it.</summary>
    public sealed record Level(int Step, Tensor Noisy, Tensor Blurred, Tensor OneStep, Tensor Iterative) : IDisposable
    {
        public void Dispose()
        {
            Noisy.Dispose();
            Blurred.Dispose();
            OneStep.Dispose();
            Iterative.Dispose();
        }

        /// <summary>PSNR and SSIM (images in [−1, 1]) of each picture of this level against <paramref name="original"/>, averaged over the batch.</summary>
        public IReadOnlyDictionary<string, (double Psnr, double Ssim)> Scores(Tensor original) =>
            new Dictionary<string, (double, double)>
            {
                ["noisy"] = Score(original, Noisy),
                ["blur"] = Score(original, Blurred),
                ["one_step"] = Score(original, OneStep),
                ["iterative"] = Score(original, Iterative),
            };

        private static (double, double) Score(Tensor original, Tensor x) =>
            (ImageQuality.Psnr(original, x).Average(), ImageQuality.Ssim(original, x).Average());
    }

    /// <summary>
    /// The strided steps below <paramref name="step"/> that iterative denoising from it walks: <paramref name="step"/> itself,
    /// then every step of <paramref name="strided"/> (decreasing) below it; the last step goes to x_0.
    /// </summary>
    public static int[] IterativeGrid(int step, IReadOnlyList<int> strided) => [step, .. strided.Where(s => s < step)];

    /// <summary>
    /// Noises <paramref name="image"/> [B, C, H, W] in [−1, 1] to each of <paramref name="steps"/> (1..T) with one noise
    /// draw from <paramref name="generator"/>, and denoises each level by <paramref name="blur"/>, one step, and iterative
    /// DDPM steps down <paramref name="strided"/> (<see cref="IterativeGrid"/>), with <paramref name="model"/> under its
    /// conditioning and x̂_0 clipped to [−c, c] where <paramref name="clipX0"/> is set. <paramref name="onIterativeStep"/>
    /// sees (level index, sampler step, x) after each iterative step.
    /// </summary>
    public static IReadOnlyList<Level> Run(DiscreteModel model, Tensor image, IReadOnlyList<int> steps, IReadOnlyList<int> strided,
        GaussianBlur blur, NoiseGenerator? generator, double? clipX0, Action<int, int, Tensor>? onIterativeStep = null)
    {
        if (image.dim() != 4) throw new DiffusionLabException($"the images to denoise must be a batch [B, C, H, W], got [{string.Join(", ", image.shape)}]");
        if (steps.Count == 0) throw new DiffusionLabException("`steps`: give at least one noise level");
        int t = model.Schedule.Steps;
        foreach (var s in steps)
            if (s < 1 || s > t) throw new DiffusionLabException($"`steps`: the noise level {s} is outside the schedule's steps 1..{t}");
        StepGrid.Check(strided, t);
        using var eps = NoiseGenerator.RandnLike(image, generator);
        var sampler = new DdpmSampler(clipX0: clipX0);
        var levels = new List<Level>();
        try
        {
            for (int i = 0; i < steps.Count; i++)
            {
                using var scope = torch.NewDisposeScope();
                int step = steps[i];
                var noisy = ForwardProcess.Sample(model.Schedule, image, step, eps);
                var blurred = blur.LowPass(noisy);
                Tensor oneStep;
                using (torch.no_grad()) oneStep = model.PredictX0(noisy, step, clipX0);
                int level = i;
                var iterative = sampler.SampleFrom(model, noisy, IterativeGrid(step, strided), generator,
                    onIterativeStep is null ? null : (k, x) => onIterativeStep(level, k, x)).Samples;
                levels.Add(new Level(step, Clamp(noisy), Clamp(blurred), Clamp(oneStep), Clamp(iterative)));
            }
            return levels;
        }
        catch
        {
            foreach (var l in levels) l.Dispose();
            throw;
        }
    }

    private static Tensor Clamp(Tensor x) => x.clamp(-1, 1).MoveToOuterDisposeScope();
}
