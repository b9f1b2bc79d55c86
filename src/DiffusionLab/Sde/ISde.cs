
namespace DiffusionLab.Sde;

/// <summary>
/// A forward SDE dx = f(x, t) dt + g(t) dW on t ∈ [0, T] with a Gaussian perturbation kernel
/// x_t | x_0 ~ N(α(t) x_0, σ(t)² I) — the five methods of score_sde's <c>sde_lib</c> (Song et al. 2021).
/// Time tensors hold one value per sample, [B]; results broadcast over data of any rank.
/// </summary>
public interface ISde
{
    string Name { get; }

    /// <summary>End time T (1 for VP/sub-VP/VE).</summary>
    double EndTime { get; }

    /// <summary>f(x, t).</summary>
    Tensor Drift(Tensor x, Tensor t);

    /// <summary>g(t), [B].</summary>
    Tensor Diffusion(Tensor t);

    /// <summary>α(t) with E[x_t | x_0] = α(t) x_0, [B].</summary>
    Tensor MeanCoefficient(Tensor t);

    /// <summary>σ(t), the std of x_t | x_0, [B].</summary>
    Tensor MarginalStd(Tensor t);

    /// <summary>A sample of the prior p_T.</summary>
    Tensor PriorSample(long[] shape, Generator? generator = null);

    /// <summary>log p_T(z) per sample, [B].</summary>
    Tensor PriorLogProb(Tensor z);
}

/// <summary>What every SDE gets from its five methods: the reverse SDE and the probability-flow ODE (Song et al. 2021, eqs. 6 and 13).</summary>
public static class SdeExtensions
{
    /// <summary>Drift of the reverse-time SDE, f − g²·score (eq. 6), or of the probability-flow ODE, f − ½g²·score (eq. 13).</summary>
    public static Tensor ReverseDrift(this ISde sde, Tensor x, Tensor t, Tensor score, bool probabilityFlow)
    {
        var g2 = TensorOps.ToRankOf(sde.Diffusion(t).square(), x);
        return sde.Drift(x, t) - (probabilityFlow ? 0.5 : 1.0) * g2 * score;
    }

    /// <summary>x_t = α(t) x_0 + σ(t) ε: a sample of the perturbation kernel.</summary>
    public static Tensor PerturbSample(this ISde sde, Tensor x0, Tensor t, Tensor noise) =>
        TensorOps.ToRankOf(sde.MeanCoefficient(t), x0) * x0 + TensorOps.ToRankOf(sde.MarginalStd(t), x0) * noise;
}
