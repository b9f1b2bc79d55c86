namespace DiffusionLab.Schedules;

/// <summary>
/// The named schedules and user-defined ones. <see cref="Create"/> turns a spec string (as given to
/// <c>--schedules</c>) into a <see cref="NoiseSchedule"/>: a name (linear, cosine, quadratic, sigmoid, sqrt)
/// or a formula <c>beta=EXPR</c> / <c>alphabar=EXPR</c> in the normalised time t = step/T (see <see cref="Formula"/>).
/// </summary>
public static class NoiseSchedules
{
    public const double DefaultBetaStart = 1e-4;
    public const double DefaultBetaEnd = 0.02;
    public const double DefaultMaxBeta = 0.999;

    public static readonly IReadOnlyList<string> Names = ["linear", "cosine", "quadratic", "sigmoid", "sqrt"];

    /// <summary>Builds a schedule from a spec string; <paramref name="zeroTerminalSnr"/> applies Lin et al. 2023's rescaling.</summary>
    public static NoiseSchedule Create(string spec, int steps, bool zeroTerminalSnr = false)
    {
        if (steps < 1) throw new DiffusionLabException($"a noise schedule needs at least 1 step (T), got {steps}");
        spec = spec.Trim();
        NoiseSchedule s;
        if (spec.StartsWith("beta=", StringComparison.OrdinalIgnoreCase))
        {
            var f = Formula.Compile(spec["beta=".Length..]);
            s = FromBeta(spec, steps, tau => f(tau, steps));
        }
        else if (spec.StartsWith("alphabar=", StringComparison.OrdinalIgnoreCase))
        {
            var f = Formula.Compile(spec["alphabar=".Length..]);
            s = FromAlphaBar(spec, steps, tau => f(tau, steps));
        }
        else
        {
            s = spec.ToLowerInvariant() switch
            {
                "linear" => Linear(steps),
                "cosine" => Cosine(steps),
                "quadratic" => Quadratic(steps),
                "sigmoid" => Sigmoid(steps),
                "sqrt" => Sqrt(steps),
                _ => throw new DiffusionLabException(
                    $"unknown schedule '{spec}' (choose from {string.Join(", ", Names)}, or beta=EXPR / alphabar=EXPR in t = step/T)"),
            };
        }
        return zeroTerminalSnr ? s.RescaleZeroTerminalSnr() : s;
    }

    /// <summary>Splits a comma-separated list of specs, ignoring commas inside parentheses (so <c>beta=min(t,0.5)</c> stays whole).</summary>
    public static IReadOnlyList<string> SplitSpecs(string list)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] == '(') depth++;
            else if (list[i] == ')') depth--;
            else if (list[i] == ',' && depth == 0) { parts.Add(list[start..i]); start = i + 1; }
        }
        parts.Add(list[start..]);
        var result = parts.Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        if (result.Count == 0) throw new DiffusionLabException("no schedule given");
        return result;
    }

    /// <summary>β_t evenly spaced from β_1 to β_T (Ho et al. 2020, §4: 1e-4 to 0.02).</summary>
    public static NoiseSchedule Linear(int steps, double betaStart = DefaultBetaStart, double betaEnd = DefaultBetaEnd) =>
        FromBetaIndex("linear", steps, u => betaStart + (betaEnd - betaStart) * u);

    /// <summary>√β_t evenly spaced from √β_1 to √β_T (the "quad" schedule of Ho et al.'s released code).</summary>
    public static NoiseSchedule Quadratic(int steps, double betaStart = DefaultBetaStart, double betaEnd = DefaultBetaEnd) =>
        FromBetaIndex("quadratic", steps, u =>
        {
            double r = Math.Sqrt(betaStart) + (Math.Sqrt(betaEnd) - Math.Sqrt(betaStart)) * u;
            return r * r;
        });

    /// <summary>β_t = β_1 + (β_T − β_1)·sigmoid(−6 + 12u), u evenly spaced in [0, 1] (GeoDiff, Xu et al. 2022, §5).</summary>
    public static NoiseSchedule Sigmoid(int steps, double betaStart = DefaultBetaStart, double betaEnd = DefaultBetaEnd) =>
        FromBetaIndex("sigmoid", steps, u => betaStart + (betaEnd - betaStart) / (1.0 + Math.Exp(-(-6.0 + 12.0 * u))));

    /// <summary>ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, β clipped to 0.999 (Nichol &amp; Dhariwal 2021, eq. 17).</summary>
    public static NoiseSchedule Cosine(int steps, double s = 0.008, double maxBeta = DefaultMaxBeta) =>
        FromAlphaBar("cosine", steps, tau => { double c = Math.Cos((tau + s) / (1 + s) * Math.PI / 2); return c * c; }, maxBeta);

    /// <summary>ᾱ(t) = 1 − √(t/T + s), s = 1e-4, β clipped to 0.999 (Li et al. 2022, Diffusion-LM, §4.2).</summary>
    public static NoiseSchedule Sqrt(int steps, double s = 1e-4, double maxBeta = DefaultMaxBeta) =>
        FromAlphaBar("sqrt", steps, tau => 1.0 - Math.Sqrt(tau + s), maxBeta);

    /// <summary>A schedule from β as a function of the normalised time τ = t/T, t = 1..T.</summary>
    public static NoiseSchedule FromBeta(string name, int steps, Func<double, double> betaOfTau)
    {
        var betas = new double[steps];
        for (int t = 1; t <= steps; t++) betas[t - 1] = betaOfTau((double)t / steps);
        return new NoiseSchedule(name, betas);
    }

    /// <summary>
    /// A schedule from a continuous ᾱ(τ), τ ∈ [0, 1]: β_t = min(1 − ᾱ(t/T) / ᾱ((t−1)/T), maxβ)
    /// (Nichol &amp; Dhariwal 2021, §3.2, the form used for their cosine schedule).
    /// </summary>
    public static NoiseSchedule FromAlphaBar(string name, int steps, Func<double, double> alphaBarOfTau, double maxBeta = DefaultMaxBeta)
    {
        var betas = new double[steps];
        for (int t = 1; t <= steps; t++)
        {
            double prev = alphaBarOfTau((double)(t - 1) / steps), cur = alphaBarOfTau((double)t / steps);
            if (!double.IsFinite(prev) || !double.IsFinite(cur) || (t == 1 && prev <= 0))
                throw new DiffusionLabException($"schedule '{name}': alpha_bar must be finite and positive at t=0; got {cur:G6} at t={t}");
            // A formula that reaches ᾱ ≤ 0 (sqrt does at t = T: 1 − √(1 + s) < 0) gets the maximal β there,
            // which is what the reference implementations' clipping of 1 − ᾱ_t/ᾱ_{t−1} yields.
            if (prev <= 0 || cur <= 0) { betas[t - 1] = maxBeta; continue; }
            betas[t - 1] = Math.Min(1.0 - cur / prev, maxBeta);
        }
        return new NoiseSchedule(name, betas);
    }

    // β from u = (t−1)/(T−1) ∈ [0, 1], the "linspace from β_1 to β_T" convention (u = 0 when T = 1).
    private static NoiseSchedule FromBetaIndex(string name, int steps, Func<double, double> betaOfU)
    {
        var betas = new double[steps];
        for (int t = 1; t <= steps; t++) betas[t - 1] = betaOfU(steps == 1 ? 0.0 : (double)(t - 1) / (steps - 1));
        return new NoiseSchedule(name, betas);
    }
}
