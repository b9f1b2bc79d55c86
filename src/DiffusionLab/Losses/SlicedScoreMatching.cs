using DiffusionLab.Sde;

namespace DiffusionLab.Losses;

/// <summary>How <see cref="SlicedScoreMatching"/> draws its projection vectors v.</summary>
public enum ProjectionKind
{
    /// <summary>v ~ N(0, I).</summary>
    Gaussian,
    /// <summary>Each component of v is ±1 with probability ½.</summary>
    Rademacher,
}

/// <summary>
/// Sliced score matching (Song et al. 2019, eq. 8) on the perturbed data: E_t E_{x_t} E_v λ(t)·[vᵀ∇_x(vᵀ s_θ(x_t, t)) + ½(vᵀ s_θ(x_t, t))²]
/// with λ(t) = σ(t)² and E[vvᵀ] = I, so that in expectation it is the implicit score-matching objective
/// while costing one backward pass per projection instead of one per data dimension.
/// </summary>
public sealed class SlicedScoreMatching : IScoreLoss
{
    private readonly double _minTime;

    public SlicedScoreMatching(ProjectionKind projection = ProjectionKind.Gaussian, int projections = 1, double minTime = ScoreLossSampling.DefaultMinTime)
    {
        if (projections < 1) throw new DiffusionLabException($"sliced score matching needs at least 1 projection, got {projections}");
        Projection = projection;
        Projections = projections;
        _minTime = minTime;
    }

    public string Name => "ssm";

    public ProjectionKind Projection { get; }

    /// <summary>Projections v per sample (M in the paper); the objective averages over them.</summary>
    public int Projections { get; }

    public Tensor Compute(ScoreModel model, Tensor x0, Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var p = ScoreLossSampling.Draw(model.Sde, x0, _minTime, generator);
        long b = x0.shape[0];
        var xt = p.Xt.detach().requires_grad_(true);
        var score = model.Score(xt, p.Time);
        var perSample = torch.zeros(b, dtype: score.dtype, device: score.device);
        for (int m = 0; m < Projections; m++)
        {
            var v = DrawProjection(x0, generator);
            var vs = (v * score).reshape(b, -1).sum(1);                                                       // vᵀ s_θ, [B]
            var gradVs = torch.autograd.grad([vs.sum()], [xt], retain_graph: true, create_graph: true)[0]; // ∇_x(vᵀ s_θ)
            var vJv = (v * gradVs).reshape(b, -1).sum(1);                                                   // vᵀ ∇_x s_θ v
            perSample = perSample + vJv + 0.5 * vs.square(); // Song et al. 2019, eq. 8
        }
        var lambda = p.Sigma.reshape(b).square();
        return (lambda * perSample / Projections).mean().MoveToOuterDisposeScope();
    }

    private Tensor DrawProjection(Tensor x0, Generator? generator) => Projection switch
    {
        ProjectionKind.Gaussian => torch.randn(x0.shape, dtype: x0.dtype, generator: generator).to(x0.device),
        ProjectionKind.Rademacher => (torch.randint(0, 2, x0.shape, dtype: ScalarType.Int64, generator: generator) * 2 - 1).to_type(x0.dtype).to(x0.device),
        _ => throw new ArgumentOutOfRangeException(nameof(Projection)),
    };
}
