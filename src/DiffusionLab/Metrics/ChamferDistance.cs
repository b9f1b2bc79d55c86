
namespace DiffusionLab.Metrics;

/// <summary>How the per-point nearest-neighbour distances of one direction are combined.</summary>
public enum ChamferReduction
{
    /// <summary>Σ over the points: grows with the number of points, so only comparable at a fixed N.</summary>
    Sum,

    /// <summary>Mean over the points: comparable across set sizes.</summary>
    Mean,
}

/// <summary>
/// Which Chamfer distance to compute. Papers disagree on every one of these choices (squared or not, sum or
/// mean, one or both directions) and the numbers differ by orders of magnitude, so the two that matter most are
/// <c>required</c>: a caller must state them rather than inherit a default that silently matches nobody's table.
/// </summary>
public sealed record ChamferOptions
{
    /// <summary>Use ‖a − b‖² (true) or the Euclidean distance ‖a − b‖ (false) to the nearest neighbour.</summary>
    public required bool Squared { get; init; }

    /// <summary>Sum or mean over the points of each direction.</summary>
    public required ChamferReduction Reduction { get; init; }

    /// <summary>Add the b → a term to the a → b term (true, the symmetric distance) or report a → b only.</summary>
    public bool BothDirections { get; init; } = true;
}

/// <summary>
/// Chamfer distance between two point sets a [N, D] and b [M, D] (Barrow et al. 1977; as a point-set metric,
/// Fan, Su &amp; Guibas 2017): every point is paired with its nearest neighbour in the other set, independently
/// of all other points, so it is cheap (O(N·M·D)) but blind to how many points share a neighbour. A generator
/// that collapses onto part of the data scores well in the generated → data direction and is only caught by the
/// data → generated one, which is why the symmetric form is the default. Sizes may differ.
/// Distances are exact differences ‖a_i − b_j‖ in float64 (torch.cdist without the ‖a‖² + ‖b‖² − 2a·b shortcut,
/// which cancels catastrophically for nearby points), computed a block of rows at a time so 10,000 × 10,000
/// points never materialise the 800 MB distance matrix.
/// </summary>
public static class ChamferDistance
{
    /// <summary>Points per set in <see cref="Sum2048"/>.</summary>
    public const int Sum2048Points = 2048;

    /// <summary>Points per set in <see cref="Group100"/>: <see cref="Group100Groups"/> groups of <see cref="Group100GroupSize"/>.</summary>
    public const int Group100Points = Group100Groups * Group100GroupSize;

    /// <summary>Number of consecutive groups in <see cref="Group100"/>.</summary>
    public const int Group100Groups = 100;

    /// <summary>Points per group in <see cref="Group100"/>.</summary>
    public const int Group100GroupSize = 100;

    /// <summary>Entries of the distance matrix computed at once: 4 Mi float64 = 32 MiB per block.</summary>
    internal const long DefaultBlockElements = 1L << 22;

    /// <summary>
    /// The Chamfer distance of <paramref name="a"/> [N, D] and <paramref name="b"/> [M, D] as chosen by
    /// <paramref name="options"/>: reduce over a of the (squared) distance to the nearest point of b, plus, with
    /// <see cref="ChamferOptions.BothDirections"/>, the same from b to a.
    /// </summary>
    public static double Compute(Tensor a, Tensor b, ChamferOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PointSets.Check(a, b, "chamfer");
        return ComputeChecked(a, b, options, DefaultBlockElements);
    }

    /// <summary>
    /// The DDIM/CFG assignment's protocol: squared distances, summed, both directions, on exactly 2048 points per set —
    /// Σ_{x∈G} min_{y∈X} ‖x − y‖² + Σ_{y∈X} min_{x∈G} ‖x − y‖² (Fan, Su &amp; Guibas 2017). Because it is a sum the
    /// number of points is part of the metric, so it is fixed: fewer than 2048 points in either set is an error,
    /// and of a larger set only the first 2048 rows are used (draw them in random order if that matters).
    /// </summary>
    public static double Sum2048(Tensor generated, Tensor data)
    {
        const string metric = "chamfer sum2048";
        PointSets.Check(generated, data, metric, "generated", "data");
        PointSets.RequireAtLeast(generated, Sum2048Points, metric, "generated");
        PointSets.RequireAtLeast(data, Sum2048Points, metric, "data");
        using var scope = torch.NewDisposeScope();
        var options = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Sum, BothDirections = true };
        return ComputeChecked(generated.narrow(0, 0, Sum2048Points), data.narrow(0, 0, Sum2048Points), options, DefaultBlockElements);
    }

    /// <summary>
    /// The score-SDE assignment's protocol: the first 10,000 points of each set are cut into 100 consecutive groups of 100, group i
    /// of generated is compared with group i of data only, and the per-group symmetric mean squared Chamfer
    /// distance is averaged over the groups. Comparing small groups measures local fit at the resolution of 100
    /// points, and the result is not comparable with <see cref="Sum2048"/> or with one Chamfer over all points.
    /// Fewer than 10,000 points in either set is an error; further rows are ignored.
    /// </summary>
    public static double Group100(Tensor generated, Tensor data)
    {
        const string metric = "chamfer group100";
        PointSets.Check(generated, data, metric, "generated", "data");
        PointSets.RequireAtLeast(generated, Group100Points, metric, "generated");
        PointSets.RequireAtLeast(data, Group100Points, metric, "data");
        using var scope = torch.NewDisposeScope();
        var g = PointSets.ToFloat64(generated.narrow(0, 0, Group100Points));
        var x = PointSets.ToFloat64(data.narrow(0, 0, Group100Points));
        var options = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Mean, BothDirections = true };
        double total = 0;
        for (int i = 0; i < Group100Groups; i++)
        {
            using var groupScope = torch.NewDisposeScope();
            long start = (long)i * Group100GroupSize;
            // CD_i = mean_{x∈G_i} min_{y∈X_i} ‖x − y‖² + mean_{y∈X_i} min_{x∈G_i} ‖x − y‖²
            total += ComputeChecked(g.narrow(0, start, Group100GroupSize), x.narrow(0, start, Group100GroupSize), options, DefaultBlockElements);
        }
        return total / Group100Groups; // (1/100) Σ_i CD_i
    }

    /// <summary><see cref="Compute"/> on inputs already checked, with the block size exposed for tests.</summary>
    internal static double ComputeChecked(Tensor a, Tensor b, ChamferOptions options, long blockElements)
    {
        using var scope = torch.NewDisposeScope();
        var (aToB, bToA) = NearestNeighbourDistances(PointSets.ToFloat64(a), PointSets.ToFloat64(b), options.BothDirections, blockElements);
        double total = Reduce(aToB, options);
        if (bToA is not null) total += Reduce(bToA, options);
        return total;
    }

    /// <summary>
    /// min_j ‖a_i − b_j‖ for every row of <paramref name="a"/> (float64 [N]) and, if <paramref name="bothDirections"/>,
    /// min_i ‖a_i − b_j‖ for every row of <paramref name="b"/> ([M]) from the same distances. The [N, M] matrix is
    /// computed <paramref name="blockElements"/> entries (at least one row) at a time and never kept whole.
    /// </summary>
    internal static (Tensor AToB, Tensor? BToA) NearestNeighbourDistances(Tensor a, Tensor b, bool bothDirections, long blockElements)
    {
        long n = a.shape[0], m = b.shape[0];
        long rows = Math.Max(1, blockElements / m);
        var rowMins = new List<Tensor>();
        Tensor? columnMins = null;
        using var scope = torch.NewDisposeScope();
        for (long start = 0; start < n; start += rows)
        {
            using var block = torch.NewDisposeScope(); // frees each block's [rows, M] matrix before the next
            var d = torch.cdist(a.narrow(0, start, Math.Min(rows, n - start)), b, p: 2.0,
                compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
            rowMins.Add(d.amin(1).MoveToOuterDisposeScope());
            if (bothDirections)
            {
                var blockMin = d.amin(0);
                columnMins = (columnMins is null ? blockMin : torch.minimum(columnMins, blockMin)).MoveToOuterDisposeScope();
            }
        }
        return (torch.cat(rowMins, 0).MoveToOuterDisposeScope(), columnMins?.MoveToOuterDisposeScope());
    }

    private static double Reduce(Tensor nearest, ChamferOptions options)
    {
        using var scope = torch.NewDisposeScope();
        var d = options.Squared ? nearest.square() : nearest;
        // Σ_{x∈from} min_{y∈to} d(x, y), or the mean: (1/|from|) Σ …
        var reduced = options.Reduction switch
        {
            ChamferReduction.Sum => d.sum(),
            ChamferReduction.Mean => d.mean(),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Reduction, "unknown Chamfer reduction"),
        };
        return reduced.item<double>();
    }
}
