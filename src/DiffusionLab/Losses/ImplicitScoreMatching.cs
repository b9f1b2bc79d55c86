using DiffusionLab.Sde;

namespace DiffusionLab.Losses;

/// <summary>
/// Implicit score matching (Hyvärinen 2005, eq. 4) on the perturbed data: E_t E_{x_t} λ(t)·[tr(∇_x s_θ(x_t, t)) + ½‖s_θ(x_t, t)‖²]
/// with λ(t) = σ(t)², which equals ½λ(t)·E‖s_θ − ∇ log p_t‖² up to a constant independent of θ.
/// The trace is exact: one backward pass per data dimension (with <c>create_graph</c>, so the loss itself can
/// be backpropagated), i.e. O(D) backward passes per call — meant for low-dimensional (toy) data only.
/// </summary>
public sealed class ImplicitScoreMatching(double minTime = ScoreLossSampling.DefaultMinTime) : IScoreLoss
{
    public string Name => "ism";

    public Tensor Compute(ScoreModel model, Tensor x0, Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var p = ScoreLossSampling.Draw(model.Sde, x0, minTime, generator);
        var xt = p.Xt.detach().requires_grad_(true);
        var score = model.Score(xt, p.Time);
        var trace = Trace(score, xt);
        var lambda = p.Sigma.reshape(x0.shape[0]).square();
        // λ(t)·[tr ∇_x s_θ + ½‖s_θ‖²] (Hyvärinen 2005, eq. 4).
        var perSample = lambda * (trace + 0.5 * score.square().reshape(x0.shape[0], -1).sum(1));
        return perSample.mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// tr(∇_x s(x)) per sample, [B], for a <paramref name="score"/> computed from <paramref name="x"/> (which must
    /// require grad): D backward passes, one per data dimension, each keeping the graph (create_graph) so the
    /// result is differentiable. Samples must not interact (as in any per-sample network).
    /// </summary>
    public static Tensor Trace(Tensor score, Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0];
        var flat = score.reshape(b, -1);
        long d = flat.shape[1];
        var trace = torch.zeros(b, dtype: score.dtype, device: score.device);
        for (long i = 0; i < d; i++)
        {
            // ∂s_i/∂x_i for every sample at once: the gradient of Σ_b s_{b,i} w.r.t. x, read at component i.
            var g = torch.autograd.grad([flat[.., i].sum()], [x], retain_graph: true, create_graph: true)[0];
            trace = trace + g.reshape(b, -1)[.., i];
        }
        return trace.MoveToOuterDisposeScope();
    }
}
