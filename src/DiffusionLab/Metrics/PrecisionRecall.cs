
namespace DiffusionLab.Metrics;

/// <summary>Improved precision and recall of generated samples against real ones.</summary>
public sealed record PrecisionRecallResult(double Precision, double Recall, int K);

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019, §3): the real manifold is the union of balls around each
/// real feature with radius its distance to its k-th nearest real neighbour (k = 3 by default); precision is the
/// fraction of generated features inside the real manifold, recall the fraction of real features inside the
/// generated manifold built the same way.
/// </summary>
public static class PrecisionRecall
{
    public static PrecisionRecallResult Compute(Tensor real, Tensor fake, int k = 3)
    {
        PointSets.Check(real, fake, "precision/recall", "real", "fake");
        if (k < 1 || real.shape[0] <= k || fake.shape[0] <= k)
            throw new DiffusionLabException($"precision/recall with k = {k} needs more than {k} samples in each set");
        using var scope = torch.NewDisposeScope();
        var r = real.detach().cpu().to_type(ScalarType.Float64);
        var f = fake.detach().cpu().to_type(ScalarType.Float64);
        double precision = Coverage(r, f, k);
        double recall = Coverage(f, r, k);
        return new PrecisionRecallResult(precision, recall, k);
    }

    /// <summary>Fraction of <paramref name="queries"/> within the k-NN radius of at least one point of <paramref name="manifold"/>.</summary>
    private static double Coverage(Tensor manifold, Tensor queries, int k)
    {
        using var scope = torch.NewDisposeScope();
        var self = torch.cdist(manifold, manifold);
        // the k-th nearest neighbour other than the point itself: index k of the sorted row (index 0 is the point)
        var radii = self.sort(1).Values[.., k];
        var d = torch.cdist(queries, manifold);
        var inside = d.le(radii.unsqueeze(0)).any(1);
        return inside.to_type(ScalarType.Float64).mean().item<double>();
    }
}
