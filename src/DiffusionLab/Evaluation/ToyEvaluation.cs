using DiffusionLab.Data;
using DiffusionLab.Metrics;

namespace DiffusionLab.Evaluation;

/// <summary>Chamfer distance and EMD of generated points against a fresh reference draw, by one of the course assignments' protocols.</summary>
public sealed record ToyScore(string Protocol, double Chamfer, double Emd, int N);

public static class ToyEvaluation
{
    /// <summary>Seed of the reference set: distinct from training seeds so samples are never compared with training points.</summary>
    public const long DefaultReferenceSeed = 20_251_123;

    public static readonly IReadOnlyList<string> Protocols = ["sum2048", "group100"];

    /// <summary>Points a protocol needs.</summary>
    public static int RequiredPoints(string protocol) => protocol switch
    {
        "sum2048" => 2048,
        "group100" => 10_000,
        _ => throw new DiffusionLabException($"unknown protocol '{protocol}' (choose from {string.Join(", ", Protocols)})"),
    };

    /// <summary>
    /// sum2048: Chamfer as the DDIM/CFG assignment (sum of squared NN distances, both directions, 2048 vs 2048) and EMD on the same
    /// 2048 points; group100: Chamfer as the score-SDE assignment (100 groups of 100, squared, mean) and EMD averaged over the
    /// same 100 group pairs.
    /// </summary>
    public static ToyScore Evaluate(Tensor samples, string dataset, string protocol, long referenceSeed = DefaultReferenceSeed)
    {
        int need = RequiredPoints(protocol);
        if (samples.dim() != 2 || samples.shape[1] != 2) throw new DiffusionLabException($"expected 2-D points (x,y), got shape [{string.Join(", ", samples.shape)}]");
        if (samples.shape[0] < need) throw new DiffusionLabException($"protocol {protocol} needs {need} samples, got {samples.shape[0]}");
        using var reference = ToyDatasets.Sample(dataset, need, referenceSeed);
        using var gen = samples[..need].to_type(ScalarType.Float32);
        if (protocol == "sum2048")
            return new ToyScore(protocol, ChamferDistance.Sum2048(gen, reference), EarthMoversDistance.Compute(gen, reference), need);
        double emd = 0;
        for (int g = 0; g < 100; g++)
        {
            using var a = gen[(g * 100)..((g + 1) * 100)];
            using var b = reference[(g * 100)..((g + 1) * 100)];
            emd += EarthMoversDistance.Compute(a, b) / 100;
        }
        return new ToyScore(protocol, ChamferDistance.Group100(gen, reference), emd, need);
    }
}
