
namespace DiffusionLab.Data;

/// <summary>
/// Seeded 2-D toy distributions for the point-cloud diffusion lab (the DDIM/CFG and score-SDE assignments). Each returns an
/// [n, 2] float32 tensor; the same (name, n, seed) always gives the same points on the same machine.
/// swiss-roll follows scikit-learn's <c>make_swiss_roll(hole=True)</c> as the seeds use it; the others
/// follow the toy sets of FFJORD (Grathwohl et al. 2019), the common reference for 2-D flows and diffusion.
/// </summary>
public static class ToyDatasets
{
    public static readonly IReadOnlyList<string> Names = ["swiss-roll", "moons", "circles", "8gaussians", "checkerboard", "spirals", "gaussian"];

    public static Tensor Sample(string name, int n, long seed)
    {
        if (n < 1) throw new DiffusionLabException($"number of points must be positive, got {n}");
        var rng = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var xy = name.ToLowerInvariant() switch
        {
            "swiss-roll" or "swissroll" => SwissRoll(n, rng),
            "moons" => Moons(n, rng),
            "circles" => Circles(n, rng),
            "8gaussians" => EightGaussians(n, rng),
            "checkerboard" => Checkerboard(n, rng),
            "spirals" => Spirals(n, rng),
            "gaussian" => Gaussian(n, rng),
            _ => throw new DiffusionLabException($"unknown dataset '{name}' (choose from {string.Join(", ", Names)})"),
        };
        return torch.tensor(xy, new long[] { n, 2 }, dtype: ScalarType.Float32);
    }

    /// <summary>
    /// scikit-learn's make_swiss_roll(n, noise=0, hole=True): t and the height are drawn uniformly from one of the
    /// 8 outer cells of the 3×3 grid over [1.5π, 4.5π] × [0, 21] (centre cell removed); the kept coordinates are
    /// (t·cos t, t·sin t); the height is dropped, so the hole shows as the middle turn holding 2/8 of the
    /// points instead of 3/8. Then (X − mean)/std × 2 with ONE scalar mean and std over all 2n entries.
    /// </summary>
    public static float[] SwissRoll(int n, Random rng) => Standardise(SwissRollRaw(n, rng), 2.0);

    /// <summary>The swiss roll before standardisation: (t·cos t, t·sin t), interleaved x, y.</summary>
    public static double[] SwissRollRaw(int n, Random rng)
    {
        var v = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            int cell = rng.Next(8);
            if (cell >= 4) cell++;               // skip the centre cell (index 4 of the 3×3 grid)
            int ti = cell / 3;                    // corners[k] = [π(1.5 + i), 7j] for i, j in 0..2, k = 3i + j
            double t = Math.PI * (1.5 + ti) + rng.NextDouble() * Math.PI;
            v[2 * i] = t * Math.Cos(t);
            v[2 * i + 1] = t * Math.Sin(t);
        }
        return v;
    }

    /// <summary>Two interleaving half circles (sklearn make_moons, noise 0.1), scaled ×2 and shifted by (−1, −0.2) as in FFJORD;
    /// shuffled like make_moons's default, so that any first k points hold both moons.</summary>
    public static float[] Moons(int n, Random rng)
    {
        var v = new float[2 * n];
        int outer = n / 2;
        for (int i = 0; i < n; i++)
        {
            double theta = Math.PI * rng.NextDouble();
            double x, y;
            if (i < outer) { x = Math.Cos(theta); y = Math.Sin(theta); }
            else { x = 1 - Math.Cos(theta); y = 1 - Math.Sin(theta) - 0.5; }
            v[2 * i] = (float)((x + 0.1 * Normal(rng)) * 2 - 1);
            v[2 * i + 1] = (float)((y + 0.1 * Normal(rng)) * 2 - 0.2);
        }
        return ShufflePoints(v, rng);
    }

    /// <summary>Two concentric circles (sklearn make_circles, factor 0.5, noise 0.08), scaled ×3 as in FFJORD; shuffled like
    /// make_circles's default.</summary>
    public static float[] Circles(int n, Random rng)
    {
        var v = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            double r = i < n / 2 ? 1.0 : 0.5, theta = 2 * Math.PI * rng.NextDouble();
            v[2 * i] = (float)(3 * (r * Math.Cos(theta) + 0.08 * Normal(rng)));
            v[2 * i + 1] = (float)(3 * (r * Math.Sin(theta) + 0.08 * Normal(rng)));
        }
        return ShufflePoints(v, rng);
    }

    /// <summary>Eight Gaussians (σ = 0.5) on a circle of radius 4, divided by 1.414 (FFJORD's "8gaussians").</summary>
    public static float[] EightGaussians(int n, Random rng)
    {
        var v = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            double angle = rng.Next(8) * Math.PI / 4;
            v[2 * i] = (float)((4 * Math.Cos(angle) + 0.5 * Normal(rng)) / 1.414);
            v[2 * i + 1] = (float)((4 * Math.Sin(angle) + 0.5 * Normal(rng)) / 1.414);
        }
        return v;
    }

    /// <summary>A 4×4 checkerboard on [−4, 4]² with half the squares filled (FFJORD's "checkerboard").</summary>
    public static float[] Checkerboard(int n, Random rng)
    {
        var v = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            double x1 = rng.NextDouble() * 4 - 2;
            double x2 = rng.NextDouble() - rng.Next(2) * 2;
            x2 += Math.Floor(x1) % 2 == 0 ? 0 : 1;
            v[2 * i] = (float)(x1 * 2);
            v[2 * i + 1] = (float)(x2 * 2);
        }
        return v;
    }

    /// <summary>Two interleaved spirals (FFJORD's "2spirals").</summary>
    public static float[] Spirals(int n, Random rng)
    {
        var v = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            double a = Math.Sqrt(rng.NextDouble()) * 540 * 2 * Math.PI / 360;
            double x = -Math.Cos(a) * a + rng.NextDouble() * 0.5, y = Math.Sin(a) * a + rng.NextDouble() * 0.5;
            double sign = i % 2 == 0 ? 1 : -1;
            v[2 * i] = (float)(sign * x / 3 + 0.1 * Normal(rng));
            v[2 * i + 1] = (float)(sign * y / 3 + 0.1 * Normal(rng));
        }
        return v;
    }

    /// <summary>The standard normal N(0, I): a diffusion model's prior, as a data set (the source of a Schrödinger bridge).</summary>
    public static float[] Gaussian(int n, Random rng)
    {
        var v = new float[2 * n];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Normal(rng);
        return v;
    }

    // The points (x, y pairs) in a uniformly random order (Fisher–Yates), as scikit-learn's shuffle=True.
    private static float[] ShufflePoints(float[] v, Random rng)
    {
        for (int i = v.Length / 2 - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (v[2 * i], v[2 * j]) = (v[2 * j], v[2 * i]);
            (v[2 * i + 1], v[2 * j + 1]) = (v[2 * j + 1], v[2 * i + 1]);
        }
        return v;
    }

    // (v − mean)/std × scale with one scalar mean and population std over all entries.
    private static float[] Standardise(double[] v, double scale)
    {
        double mean = v.Average();
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return v.Select(x => (float)((x - mean) / std * scale)).ToArray();
    }

    // Standard normal by Box–Muller.
    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
