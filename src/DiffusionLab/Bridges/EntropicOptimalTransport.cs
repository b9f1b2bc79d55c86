namespace DiffusionLab.Bridges;

/// <summary>An entropic transport plan and how far Sinkhorn's iterations got.</summary>
/// <param name="Plan">[n, m] joint probabilities, summing to 1; rows sum to 1/n and columns to 1/m within <paramref name="MarginalError"/>.</param>
/// <param name="Iterations">Sinkhorn iterations run (one row and one column update each).</param>
/// <param name="MarginalError">Largest |row sum − 1/n| after the last iteration, in units of 1/n (the columns are exact).</param>
public sealed record EntropicPlan(Tensor Plan, int Iterations, double MarginalError) : IDisposable
{
    public void Dispose() => Plan.Dispose();
}

/// <summary>
/// Entropic optimal transport between two equally weighted point clouds x [n, d] and y [m, d]: the plan π minimising
/// Σ π_ij |x_i − y_j|² + ε·KL(π ‖ μ⊗ν) with marginals μ = 1/n, ν = 1/m, by Sinkhorn's matrix scaling (Cuturi 2013) in
/// the log domain (Peyré and Cuturi 2019, "Computational Optimal Transport", §4.4), so that a small ε cannot underflow
/// exp(−C/ε). With ε = 2σ² this is the static Schrödinger bridge for a reference Brownian motion σW on [0, 1]
/// (Léonard 2014, Prop. 2.3): the coupling of the bridge's two ends.
/// </summary>
public static class EntropicOptimalTransport
{
    /// <summary>Largest Sinkhorn iteration count before giving up on <see cref="Plan"/>'s tolerance.</summary>
    public const int DefaultMaxIterations = 2000;

    /// <summary>
    /// The entropic plan between <paramref name="x"/> and <paramref name="y"/> for regularisation
    /// <paramref name="epsilon"/> &gt; 0, computed in float64 on their device. Iterates until every row sum is within
    /// <paramref name="tolerance"/>/n of 1/n (each iteration ends on the column update, so the columns are exact) or <paramref name="maxIterations"/> is reached; the result says which.
    /// </summary>
    public static EntropicPlan Plan(Tensor x, Tensor y, double epsilon, double tolerance = 1e-4, int maxIterations = DefaultMaxIterations)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new DiffusionLabException($"entropic transport needs two point sets [n, d] and [m, d], got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]");
        if (x.shape[0] < 1 || y.shape[0] < 1) throw new DiffusionLabException("entropic transport needs at least one point on each side");
        if (!(epsilon > 0) || double.IsInfinity(epsilon)) throw new DiffusionLabException($"the entropic regularisation must be positive and finite, got {epsilon}");
        if (!(tolerance > 0)) throw new DiffusionLabException($"the Sinkhorn tolerance must be positive, got {tolerance}");
        if (maxIterations < 1) throw new DiffusionLabException($"the Sinkhorn iteration limit must be positive, got {maxIterations}");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = x.detach().to_type(ScalarType.Float64);
        var b = y.detach().to_type(ScalarType.Float64);
        long n = a.shape[0], m = b.shape[0];
        // log K_ij = −|x_i − y_j|²/ε, the squared distance expanded so no [n, m, d] tensor is formed
        var cost = (a.pow(2).sum(1, keepdim: true) + b.pow(2).sum(1).unsqueeze(0) - 2 * a.matmul(b.t())).clamp_min(0);
        var logK = -cost / epsilon;
        double logMu = -Math.Log(n), logNu = -Math.Log(m);
        var logV = torch.zeros(1, m, dtype: ScalarType.Float64, device: a.device);
        Tensor logU = torch.zeros(n, 1, dtype: ScalarType.Float64, device: a.device);
        int iterations = 0;
        double error = double.PositiveInfinity;
        while (iterations < maxIterations)
        {
            using var step = torch.NewDisposeScope();
            // u ← μ ⊘ K v and v ← ν ⊘ Kᵀu, as log-sum-exps (Peyré & Cuturi, eq. 4.43)
            var newU = logMu - torch.logsumexp(logK + logV, 1, keepdim: true);
            var newV = logNu - torch.logsumexp(logK + newU, dim: 0, keepdim: true);
            iterations++;
            // after the column update the columns are exact and the rows carry the error: measure the rows
            var rowLog = torch.logsumexp(logK + newU + newV, 1);
            error = (rowLog.exp() * n - 1).abs().max().item<double>();
            logU = newU.MoveToOuterDisposeScope();
            logV = newV.MoveToOuterDisposeScope();
            if (error <= tolerance) break;
        }
        var plan = (logU + logK + logV).exp();
        return new EntropicPlan(plan.to_type(x.dtype).MoveToOuterDisposeScope(), iterations, error);
    }

    /// <summary>
    /// <paramref name="count"/> index pairs (i, j) drawn with replacement from <paramref name="plan"/> [n, m]: the
    /// minibatch coupling of Tong et al. (2024, "Simulation-free Schrödinger bridges via score and flow matching", Alg. 1).
    /// </summary>
    public static (Tensor Rows, Tensor Columns) SamplePairs(Tensor plan, int count, Generator? generator)
    {
        if (plan.dim() != 2) throw new DiffusionLabException($"a transport plan is [n, m], got [{string.Join(", ", plan.shape)}]");
        if (count < 1) throw new DiffusionLabException($"the number of pairs must be positive, got {count}");
        long m = plan.shape[1];
        using var flat = plan.detach().reshape(-1).to_type(ScalarType.Float64);
        using var picks = torch.multinomial(flat, count, replacement: true, generator: generator);
        using var width = torch.tensor(m, ScalarType.Int64);
        return (torch.floor_divide(picks, width), torch.remainder(picks, width)); // int64 throughout (div with a rounding mode returns float)
    }
}
