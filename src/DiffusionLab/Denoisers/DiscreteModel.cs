using DiffusionLab.Schedules;

namespace DiffusionLab.Denoisers;

/// <summary>
/// How a sampler's ε̂ and x̂_0 are formed from the network: class-free guidance, visual anagrams, hybrid images and
/// classifier guidance are all conditionings, so every sampler (DDPM, DDIM, inpainting, SDEdit) runs them unchanged.
/// </summary>
public interface IConditioning
{
    /// <summary>ε̂ and x̂_0 for x_t at integer steps [B] (1..T); <see cref="DiscreteModel.PredictLabels"/> gives the network's plain answers.</summary>
    Prediction Predict(DiscreteModel model, Tensor x, Tensor steps);
}

/// <summary>
/// A discrete-time diffusion model: a schedule of T steps and a denoiser network. The network sees x_t and
/// t/T; its output is read with α = √ᾱ_t and σ = √(1 − ᾱ_t). The schedule lives here, not in the network,
/// so it never ends up in a checkpoint.
/// </summary>
public sealed class DiscreteModel : IDisposable
{
    private readonly bool _ownsForward; // a model made by With shares its parent's forward process and leaves it to it

    public DiscreteModel(NoiseSchedule schedule, Denoiser denoiser, Device? device = null)
    {
        Schedule = schedule;
        Denoiser = denoiser;
        Forward = new ForwardProcess(schedule, device);
        _ownsForward = true;
    }

    private DiscreteModel(DiscreteModel parent, IConditioning? conditioning)
    {
        Schedule = parent.Schedule;
        Denoiser = parent.Denoiser;
        Forward = parent.Forward;
        Conditioning = conditioning;
    }

    public NoiseSchedule Schedule { get; }

    /// <summary>q(x_t | x_0) of the schedule: the training loss noises through it, and its α, σ read the network's output.</summary>
    public ForwardProcess Forward { get; }
    public Denoiser Denoiser { get; }

    /// <summary>
    /// The condition every <see cref="Predict(Tensor, Tensor)"/> applies (null = the network alone): class guidance,
    /// an anagram, a hybrid… so any sampler draws conditional or guided samples without knowing about them. Fixed for
    /// the life of this model: <see cref="With"/> gives the same network under another condition, so one network can
    /// serve several sampling loops at once.
    /// </summary>
    public IConditioning? Conditioning { get; }

    /// <summary>The same schedule and network under <paramref name="conditioning"/> (null: the network alone). Cheap: the
    /// tables are shared, and disposing the result leaves them to this model.</summary>
    public DiscreteModel With(IConditioning? conditioning) => new(this, conditioning);

    /// <summary>ε̂ and x̂_0 for x_t at integer steps <paramref name="steps"/> ([B], values 1..T), under <see cref="Conditioning"/>.</summary>
    public Prediction Predict(Tensor x, Tensor steps) =>
        Conditioning is { } c ? c.Predict(this, x, steps) : PredictLabels(x, steps, null);

    /// <summary>The network's ε̂ and x̂_0 with class labels [B] (null: an unconditional network), ignoring <see cref="Conditioning"/>.</summary>
    public Prediction PredictLabels(Tensor x, Tensor steps, Tensor? labels)
    {
        var (alpha, sigma) = Coefficients(steps, x);
        var time = Time(steps, x);
        return Denoiser.Predict(x, time, alpha, sigma, labels);
    }

    /// <summary>The network's time input t/T, in the side-input type of <paramref name="like"/> and on its device.</summary>
    private Tensor Time(Tensor steps, Tensor like) =>
        steps.to_type(TensorOps.SideInputType(like)).to(like.device) / Schedule.Steps;

    /// <summary>The network's ε̂ and x̂_0 of x under two label sets, stacked [2B] — one call (shared class-free layers).</summary>
    public Prediction PredictPair(Tensor x, Tensor steps, Tensor labels, Tensor otherLabels)
    {
        var (alpha, sigma) = Coefficients(steps, x);
        var time = Time(steps, x);
        return Denoiser.PredictPair(x, time, alpha, sigma, labels, otherLabels);
    }

    /// <summary>α = √ᾱ_t and σ = √(1 − ᾱ_t) of x_t = α x_0 + σ ε per sample, shaped [B, 1, …] like <paramref name="like"/>.</summary>
    public (Tensor Alpha, Tensor Sigma) Coefficients(Tensor steps, Tensor like) =>
        Forward.Coefficients(steps, like);

    /// <summary>Same, with one step for the whole batch.</summary>
    public Prediction Predict(Tensor x, int step)
    {
        using var steps = torch.full(x.shape[0], step, dtype: ScalarType.Int64, device: x.device);
        return Predict(x, steps);
    }

    /// <summary>x̂_0 at one step for the whole batch, clipped to [−c, c] when <paramref name="clip"/> is set (diffusers' clip_sample).</summary>
    public Tensor PredictX0(Tensor x, int step, double? clip)
    {
        var x0 = Predict(x, step).X0;
        return clip is double c ? x0.clamp(-c, c) : x0;
    }

    /// <summary>
    /// The simplified DDPM objective (Ho et al. 2020, eq. 14): t ~ U{1..T}, ε ~ N(0, I),
    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, loss = mean ‖target − f(x_t, t/T)‖² with the target of the
    /// parameterisation (ε, x_0 or v).
    /// </summary>
    /// <param name="x0">Clean data [B, …].</param>
    /// <param name="generator">Source of the step, noise and label-dropout randomness.</param>
    /// <param name="labels">For a class-conditional network: the labels [B] (or prompt tokens [B, L]); each is replaced by
    /// the null label (the empty prompt) with probability <paramref name="pUncond"/> so the same network learns the
    /// unconditional model (Ho &amp; Salimans 2022, Alg. 1).</param>
    /// <param name="pUncond">Probability of dropping a label.</param>
    /// <param name="slice">Data-parallel training: <paramref name="x0"/> holds samples Start … Start + B − 1 of a global
    /// batch of Total. The steps, noise and label drops are drawn for the whole batch and sliced, so that each sample's
    /// randomness does not depend on how many ranks share the batch.</param>
    public Tensor Loss(Tensor x0, Generator? generator = null, Tensor? labels = null, double pUncond = 0, (int Start, int Total)? slice = null)
    {
        using var scope = torch.NewDisposeScope();
        long b = x0.shape[0];
        var (first, total) = slice ?? (0, (int)b);
        if (first < 0 || first + b > total) throw new ArgumentException($"slice {first}..{first + b} is outside a batch of {total}");
        Tensor Mine(Tensor whole) => b == total ? whole : whole.narrow(0, first, b);
        var steps = Mine(torch.randint(1, Schedule.Steps + 1, [total], dtype: ScalarType.Int64, generator: generator)).to(x0.device);
        var eps = Mine(torch.randn([total, .. x0.shape[1..]], dtype: x0.dtype, generator: generator)).to(x0.device);
        var (alpha, sigma) = Forward.Coefficients(steps, x0);
        var xt = Forward.Sample(x0, steps, eps); // q(x_t | x_0), Ho et al. 2020, eq. 4
        if (labels is not null && pUncond > 0)
        {
            var drop = Mine(torch.rand([total], generator: generator)).to(x0.device).lt(pUncond);
            labels = Models.IClassConditionalNetwork.Drop(labels, drop);
        }
        var output = Denoiser.Output(xt, Time(steps, xt), labels);
        var target = PredictionMath.Target(Denoiser.Parameterisation, x0, eps, alpha, sigma);
        return (output - target).square().mean().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        if (_ownsForward) Forward.Dispose();
    }
}
