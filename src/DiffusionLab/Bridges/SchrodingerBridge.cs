namespace DiffusionLab.Bridges;

/// <summary>What the bridge network reads at (x_t, t): E[x_1 − x_0 | x_t] and E[z | x_t] of the bridge's noise z.</summary>
public sealed record BridgePrediction(Tensor Displacement, Tensor Noise) : IDisposable
{
    public void Dispose()
    {
        Displacement.Dispose();
        Noise.Dispose();
    }
}

/// <summary>
/// A Schrödinger bridge between two distributions q_0 and q_1 on t ∈ [0, 1] for the reference process σW: of all
/// processes that start in q_0 and end in q_1, the one closest in KL to Brownian motion with diffusion σ (Schrödinger 1931;
/// Léonard 2014). Unlike a diffusion model, neither end needs to be Gaussian — the HelloScore tutorial's optional task.
/// <para>
/// Learnt without simulating it, as in [SF]²M (Tong et al. 2024, "Simulation-free Schrödinger bridges via score and flow
/// matching"): the bridge is the mixture of Brownian bridges x_t = (1 − t)x_0 + t·x_1 + σ√(t(1 − t))·z over the static
/// coupling of its ends, which is the entropic optimal transport plan for the cost |x_0 − x_1|² at ε = 2σ²
/// (<see cref="EntropicOptimalTransport"/>, drawn per minibatch). The network regresses two bounded targets, the
/// displacement x_1 − x_0 and the noise z, so its outputs are the conditional means E[x_1 − x_0 | x_t] and E[z | x_t]; every
/// drift below is a combination of the two with coefficients of t (Tong et al. parameterise the flow and the score instead,
/// whose targets grow like 1/√t at the ends).
/// </para>
/// </summary>
public sealed class SchrodingerBridge
{
    /// <param name="network">(x [B, D], t [B] in [0, 1]) → [B, 2D]: the displacement, then the noise.</param>
    /// <param name="dimension">D, the data dimension.</param>
    /// <param name="sigma">σ of the reference Brownian motion; large σ couples the ends almost independently, small σ approaches optimal transport.</param>
    public SchrodingerBridge(nn.Module<Tensor, Tensor, Tensor> network, int dimension, double sigma)
    {
        if (dimension < 1) throw new DiffusionLabException($"the data dimension must be positive, got {dimension}");
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new DiffusionLabException($"the bridge's σ must be positive and finite, got {sigma}");
        Network = network;
        Dimension = dimension;
        Sigma = sigma;
    }

    public nn.Module<Tensor, Tensor, Tensor> Network { get; }
    public int Dimension { get; }
    public double Sigma { get; }

    /// <summary>ε = 2σ²: the entropic regularisation whose plan is the bridge's coupling of its ends.</summary>
    public double Epsilon => 2 * Sigma * Sigma;

    /// <summary>x_t = (1 − t)x_0 + t·x_1 + σ√(t(1 − t))·z, the Brownian bridge from x_0 to x_1 (t [B] in [0, 1]).</summary>
    public static Tensor BridgePoint(Tensor x0, Tensor x1, Tensor t, Tensor z, double sigma)
    {
        var tt = TensorOps.ToRankOf(t, x0);
        return (1 - tt) * x0 + tt * x1 + sigma * (tt * (1 - tt)).sqrt() * z;
    }

    /// <summary>The network's two reads at (x, t): E[x_1 − x_0 | x_t = x] and E[z | x_t = x].</summary>
    public BridgePrediction Predict(Tensor x, Tensor t)
    {
        CheckPoints(x);
        using var output = Network.call(x, t);
        if (output.dim() != 2 || output.shape[1] != 2 * Dimension)
            throw new DiffusionLabException($"the bridge network must return [B, {2 * Dimension}] (displacement and noise), got [{string.Join(", ", output.shape)}]");
        return new BridgePrediction(output.narrow(1, 0, Dimension).contiguous(), output.narrow(1, Dimension, Dimension).contiguous());
    }

    /// <summary>
    /// The forward drift E[(x_1 − x_t)/(1 − t) | x_t] = d̂ − σ√(t/(1 − t))·ε̂: what pulls a point from q_0 toward q_1
    /// (the Brownian bridge's drift toward its end, averaged over the ends that x_t may be heading to). t in [0, 1).
    /// </summary>
    public Tensor ForwardDrift(Tensor x, double t)
    {
        if (!(t >= 0 && t < 1)) throw new DiffusionLabException($"the forward drift needs t in [0, 1), got {t}");
        using var p = Predict(x, TensorOps.Times(x, t));
        return p.Displacement - Sigma * Math.Sqrt(t / (1 - t)) * p.Noise;
    }

    /// <summary>
    /// The backward drift E[(x_t − x_0)/t | x_t] = d̂ + σ√((1 − t)/t)·ε̂: run backwards in time it pulls a point from q_1
    /// toward q_0 (x_{t−h} = x_t − h·drift + σ√h·z). t in (0, 1].
    /// </summary>
    public Tensor BackwardDrift(Tensor x, double t)
    {
        if (!(t > 0 && t <= 1)) throw new DiffusionLabException($"the backward drift needs t in (0, 1], got {t}");
        using var p = Predict(x, TensorOps.Times(x, t));
        return p.Displacement + Sigma * Math.Sqrt((1 - t) / t) * p.Noise;
    }

    /// <summary>
    /// The probability-flow velocity, the mean of the two drifts: d̂ + σ(1 − 2t)/(2√(t(1 − t)))·ε̂, the conditional flow
    /// of the Brownian bridge (Tong et al. 2024, eq. 9) averaged over the ends. Its ODE carries q_0 to q_1 without noise. t in (0, 1).
    /// </summary>
    public Tensor Velocity(Tensor x, double t)
    {
        if (!(t > 0 && t < 1)) throw new DiffusionLabException($"the probability-flow velocity needs t in (0, 1), got {t}");
        using var p = Predict(x, TensorOps.Times(x, t));
        return p.Displacement + Sigma * (1 - 2 * t) / (2 * Math.Sqrt(t * (1 - t))) * p.Noise;
    }

    /// <summary>The score ∇ log p_t(x) = −E[z | x_t]/(σ√(t(1 − t))) of the bridge's marginal. t in (0, 1).</summary>
    public Tensor Score(Tensor x, double t)
    {
        if (!(t > 0 && t < 1)) throw new DiffusionLabException($"the bridge's score needs t in (0, 1), got {t}");
        using var p = Predict(x, TensorOps.Times(x, t));
        return -p.Noise / (Sigma * Math.Sqrt(t * (1 - t)));
    }

    /// <summary>
    /// One training loss on a source batch and a target batch (each [B, D]): B pairs drawn from their entropic plan at
    /// ε = 2σ² ([SF]²M's minibatch coupling), t ~ U(0, 1), z ~ N(0, I), x_t on the bridge between the pair, and the mean
    /// squared errors of the network's displacement and noise against x_1 − x_0 and z, summed.
    /// </summary>
    public Tensor Loss(Tensor source, Tensor target, Generator generator)
    {
        CheckPoints(source);
        CheckPoints(target);
        if (source.shape[0] != target.shape[0]) throw new DiffusionLabException($"source and target batches differ in size: {source.shape[0]} and {target.shape[0]}");
        int b = (int)source.shape[0];
        Tensor x0, x1;
        using (var plan = EntropicOptimalTransport.Plan(source, target, Epsilon, tolerance: 1e-3))
        {
            var (rows, columns) = EntropicOptimalTransport.SamplePairs(plan.Plan, b, generator);
            using (rows) using (columns)
            {
                x0 = source.index_select(0, rows.to(source.device));
                x1 = target.index_select(0, columns.to(target.device));
            }
        }
        using var t = torch.rand(b, generator: generator).to(source.device).to_type(source.dtype);
        using var z = torch.randn(x0.shape, generator: generator).to(source.device).to_type(source.dtype);
        using var xt = BridgePoint(x0, x1, t, z, Sigma);
        using var p = Predict(xt, t);
        using var displacement = x1 - x0;
        using var dLoss = (p.Displacement - displacement).pow(2).mean();
        using var nLoss = (p.Noise - z).pow(2).mean();
        x0.Dispose();
        x1.Dispose();
        return dLoss + nLoss;
    }

    private void CheckPoints(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != Dimension || x.shape[0] < 1)
            throw new DiffusionLabException($"the bridge works on points [B, {Dimension}] with B >= 1, got [{string.Join(", ", x.shape)}]");
    }
}
