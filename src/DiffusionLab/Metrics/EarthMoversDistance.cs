
namespace DiffusionLab.Metrics;

/// <summary>
/// Earth Mover's Distance between two point sets of equal size n (Rubner, Tomasi &amp; Guibas 2000; in the
/// point-set form of Fan, Su &amp; Guibas 2017): the cost of the best one-to-one matching φ: a → b,
/// min_φ Σ_i ‖a_i − φ(a_i)‖. Unlike Chamfer, every point must be used exactly once, so a generator that
/// collapses onto part of the data pays for the points it never covers. With equal sizes and uniform weights the
/// optimal transport plan is a permutation (Birkhoff–von Neumann), so the matching is the exact 1-Wasserstein
/// distance between the two empirical distributions — computed exactly here. Point-cloud papers often use auction
/// or Sinkhorn approximations, whose matchings cost at least the optimum, so their values can be slightly larger.
/// <para>
/// Returned as the MEAN matched Euclidean (not squared) distance, (1/n) min_φ Σ_i ‖a_i − φ(a_i)‖, so it is in
/// the units of the coordinates and comparable across n; multiply by n for Fan et al.'s sum.
/// Cost: an n × n float64 matrix and O(n³) worst-case time (n = 2,000 takes about a second, see <see cref="LinearAssignment"/>).
/// </para>
/// </summary>
public static class EarthMoversDistance
{
    /// <summary>The mean Euclidean distance between matched points under the optimal matching of <paramref name="a"/> and <paramref name="b"/>, both [n, D].</summary>
    public static double Compute(Tensor a, Tensor b)
    {
        var match = Match(a, b);
        using var scope = torch.NewDisposeScope();
        var x = PointSets.ToFloat64(a);
        var y = PointSets.ToFloat64(b);
        var index = torch.tensor(Array.ConvertAll(match, j => (long)j), device: y.device);
        // Recomputed from exact differences of the matched pairs: (1/n) Σ_i ‖a_i − b_σ(i)‖.
        return (x - y.index_select(0, index)).square().sum(1).sqrt().mean().item<double>();
    }

    /// <summary>The optimal matching itself: element i is the row of <paramref name="b"/> matched to row i of <paramref name="a"/>.</summary>
    public static int[] Match(Tensor a, Tensor b)
    {
        PointSets.Check(a, b, "emd");
        if (a.shape[0] != b.shape[0])
            throw new DiffusionLabException(
                $"emd: needs point sets of equal size for a one-to-one matching; got {a.shape[0]} and {b.shape[0]} points");
        long n = a.shape[0];
        if (n * n > Array.MaxLength)
            throw new DiffusionLabException($"emd: {n} points need an {n} x {n} cost matrix, too large for the exact matching; subsample first");

        double[] cost;
        using (var scope = torch.NewDisposeScope())
        {
            // c_ij = ‖a_i − b_j‖ from exact differences, so a point matched to its own copy costs exactly 0.
            var d = torch.cdist(PointSets.ToFloat64(a), PointSets.ToFloat64(b), p: 2.0,
                compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
            cost = d.cpu().contiguous().data<double>().ToArray();
        }
        return LinearAssignment.Solve(cost, (int)n, (int)n);
    }
}
