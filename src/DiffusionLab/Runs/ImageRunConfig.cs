using DiffusionLab.Models;
using DiffusionLab.Training;

namespace DiffusionLab.Runs;

/// <summary>
/// Everything needed to rebuild an image run: saved as <c>config.json</c> in a run folder (and next to shipped
/// weights) and read back by sampling, resuming and editing.
/// </summary>
public sealed record ImageRunConfig
{
    public static readonly IReadOnlyList<string> Models = ["cs180-single", "cs180-time", "cs180-class", "unet"];

    /// <summary>Dataset spec (mnist, fashion-mnist, emoji, emoji64, idx:DIR, folder:PATH).</summary>
    public string Dataset { get; init; } = "mnist";
    public int ImageSize { get; init; } = 28;
    public int Channels { get; init; } = 1;
    /// <summary>The dataset's class names, in label order.</summary>
    public string[] ClassNames { get; init; } = [];
    /// <summary>cs180-single (one-step denoiser), cs180-time, cs180-class or unet.</summary>
    public string Model { get; init; } = "cs180-class";
    /// <summary>CS180 U-Net hidden channels D.</summary>
    public int Hidden { get; init; } = 64;
    public DdpmUNetConfig UNet { get; init; } = new();
    /// <summary>For unet: condition on the class (with a null class for guidance).</summary>
    public bool ClassConditional { get; init; } = true;
    /// <summary>
    /// For unet: condition on the images' captions instead of their class — a prompt vocabulary of these GPT-2 token ids
    /// (<see cref="Conditioning.PromptVocabulary"/>, built from the training captions) and the text encoder of
    /// <see cref="DdpmUNetConfig.Text"/>. Null for every other model, and absent from their JSON.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int[]? PromptTokens { get; init; }

    /// <summary>Whether the model is prompt-conditioned (<see cref="PromptTokens"/>, or a frozen encoder's features).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsTextConditional => PromptTokens is not null || UNet.Text?.Frozen is not null;

    /// <summary>What reads a text-conditioned model's prompts (null for other models): the learned vocabulary of
    /// <see cref="PromptTokens"/>, or the frozen encoder <see cref="DdpmUNetConfig.Text"/> names.</summary>
    public Conditioning.IPromptEncoder? PromptEncoder() =>
        UNet.Text?.Frozen is not null ? new Conditioning.MiniLmPromptEncoder(UNet.Text.MaxTokens)
        : PromptTokens is null ? null : new Conditioning.PromptVocabulary(PromptTokens, UNet.Text?.MaxTokens ?? throw new DiffusionLabException("a text-conditioned model's config has no UNet.Text"));
    public string Prediction { get; init; } = "eps";
    public string Schedule { get; init; } = "linear";
    public int DiffusionSteps { get; init; } = 300;
    /// <summary>Probability of dropping the class during training (classifier-free guidance; CS180 project 5 uses 0.1).</summary>
    public double PUncond { get; init; } = 0.1;
    /// <summary>For cs180-single: the training noise level σ of z = x + σε.</summary>
    public double Sigma { get; init; } = 0.5;
    /// <summary>Random horizontal flips of training images.</summary>
    public bool Flip { get; init; }
    /// <summary>
    /// With <see cref="Flip"/>: the classes never flipped, because their mirror image is a different or a wrong picture
    /// (text, digits, arrows, flags). Absent (null) when every class may be flipped, so older run folders still resume.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string[]? NoFlipClasses { get; init; }

    /// <summary>
    /// The x̂_0 clip the sampler uses unless told otherwise: the DDPM U-Net's samples are clipped to the data range [−1, 1]
    /// at every step, as Ho et al. 2020's sampler (clip_denoised) and diffusers' schedulers (clip_sample) do — without it a
    /// model early in training (or at the noisy end of a linear schedule, where x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t multiplies
    /// ε̂'s error by up to 150) draws saturated fields of pure colour; the CS180 recipe's sampler does not clip (null).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double? DefaultClipX0 => Model == "unet" ? 1.0 : null;

    /// <summary>The classes a data set's pictures must never be mirrored in: emoji's Symbols and Flags; none elsewhere.</summary>
    public static string[]? DefaultNoFlipClasses(string dataset) =>
        Data.EmojiDataset.IsName(dataset) ? ["Symbols", "Flags"] : null;
    /// <summary>
    /// The trained model or run folder whose weights this run started from (fine-tuning, <see cref="ImageRun.InitialiseFrom"/>);
    /// null for a run from random weights, and then absent from the JSON.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? InitFrom { get; init; }
    public int BatchSize { get; init; } = 128;
    public int Epochs { get; init; } = 20;
    /// <summary>Write a sample grid every this many epochs (0 = never).</summary>
    public int GridEvery { get; init; } = 1;
    /// <summary>The guidance scale γ of a class-conditional model's epoch grids (CS180 part B's 5; the KAIST CFG assignment
    /// samples at w = 7.5, γ = 8.5).</summary>
    public double GridGuidanceScale { get; init; } = 5;
    public TrainingOptions Training { get; init; } = new();

    public bool IsSingleStep => Model == "cs180-single";
    public int NumClasses => Model == "cs180-class" || (Model == "unet" && ClassConditional && !IsTextConditional) ? ClassNames.Length : 0;

    /// <summary>The recipe of each model (CS180 project 5 part B for the CS180 nets; DDPM's CIFAR-10 recipe scaled down for unet).</summary>
    public static ImageRunConfig Preset(string model) => model switch
    {
        // CS180 project 5 part B §1.2.1: D = 128, batch 256, 5 epochs, Adam 1e-4, σ = 0.5
        "cs180-single" => new ImageRunConfig
        {
            Model = model, Hidden = 128, BatchSize = 256, Epochs = 5,
            Training = new TrainingOptions { LearningRate = 1e-4, LrSchedule = "constant", WarmupSteps = 0, GradClip = 0, EmaDecay = 0 },
        },
        // CS180 project 5 part B §2.2 / §2.4: T = 300, linear β 1e-4…0.02, D = 64, batch 128, 20 epochs, Adam 1e-3, ExponentialLR γ = 0.1^(1/epochs)
        "cs180-time" or "cs180-class" => new ImageRunConfig
        {
            Model = model, Hidden = 64, BatchSize = 128, Epochs = 20, DiffusionSteps = 300, Schedule = "linear",
            Training = new TrainingOptions
            {
                LearningRate = 1e-3, LrSchedule = "exponential", LrGamma = Math.Pow(0.1, 1.0 / 20), WarmupSteps = 0, GradClip = 0,
                EmaDecay = 0.999, EmaWarmup = true,
            },
        },
        // Ho et al. 2020 App. B (CIFAR-10: ch 128, mult 1,2,2,2, 2 res blocks, attention at 16, dropout 0.1, lr 2e-4,
        // clip 1, EMA 0.9999, T = 1000, flips) scaled to a CPU: ch 64, three levels, attention at 8 px.
        "unet" => new ImageRunConfig
        {
            Model = model, BatchSize = 64, Epochs = 20, DiffusionSteps = 1000, Schedule = "linear", Flip = true, ImageSize = 32, Channels = 3,
            UNet = new DdpmUNetConfig(),
            Training = new TrainingOptions { LearningRate = 2e-4, LrSchedule = "constant", WarmupSteps = 500, GradClip = 1, EmaDecay = 0.9999, EmaWarmup = true },
        },
        _ => throw new DiffusionLabException($"unknown model '{model}' (choose from {string.Join(", ", Models)})"),
    };

    /// <summary>Checks every field; a bad one is named as the option that sets it, or — when the configuration was read
    /// from <paramref name="file"/> — as the field of that file.</summary>
    public void Validate(string? file = null)
    {
        string Name(string field) => file is null ? $"`{field}`" : $"{field} in {file}"; // a parameter when set in code, the file's field when read
        if (!Models.Contains(Model)) throw new DiffusionLabException($"unknown model '{Model}'{(file is null ? "" : $" (Model in {file})")} (choose from {string.Join(", ", Models)})");
        if (Channels is not (1 or 3)) throw new DiffusionLabException($"images must have 1 or 3 channels, got {Channels}{(file is null ? "" : $" (Channels in {file})")}");
        if (ImageSize < 4) throw new DiffusionLabException($"{Name("ImageSize")} must be at least 4, got {ImageSize}");
        if (BatchSize < 1) throw new DiffusionLabException($"{Name("BatchSize")} must be positive, got {BatchSize}");
        if (Epochs < 1) throw new DiffusionLabException($"{Name("Epochs")} must be at least 1, got {Epochs}");
        if (PUncond is < 0 or >= 1) throw new DiffusionLabException($"{Name("PUncond")} must be in [0, 1), got {PUncond}");
        if (!(Sigma >= 0)) throw new DiffusionLabException($"{Name("Sigma")} must not be negative, got {Sigma}");
        if (DiffusionSteps < 1) throw new DiffusionLabException($"{Name("DiffusionSteps")} must be positive, got {DiffusionSteps}");
        if (UNet.Text?.Frozen is not null && (Model != "unet" || PromptTokens is not null))
            throw new DiffusionLabException($"{Name("UNet.Text.Frozen")}: a model on a frozen text encoder is a unet without `PromptTokens`");
        if (PromptTokens is not null && (Model != "unet" || UNet.Text is null || UNet.Text.VocabSize != 3 + PromptTokens.Length))
            throw new DiffusionLabException($"{Name("PromptTokens")}: a text-conditioned model is a unet whose UNet.Text has a vocabulary of the {PromptTokens.Length} prompt tokens plus 3 reserved ids");
        if (!(GridGuidanceScale >= 0) || double.IsInfinity(GridGuidanceScale))
            throw new DiffusionLabException($"{Name("GridGuidanceScale")} must be a finite γ ≥ 0, got {GridGuidanceScale}");
        Training.Validate(file);
    }
}
