
namespace DiffusionLab.Metrics;

/// <summary>
/// Input checks shared by the point-set metrics. A point set is a [N, D] tensor, one point per row, in any
/// dimension D. The checks run before any arithmetic so a wrong shape is reported as the user's mistake in one
/// line instead of surfacing as a broadcasting error (or, worse, a silently broadcast result) deep inside torch.
/// </summary>
internal static class PointSets
{
    /// <summary>
    /// Throws a <see cref="DiffusionLabException"/> unless both tensors are non-empty [N, D] point sets of the
    /// same dimension D ≥ 1 with finite coordinates. <paramref name="metric"/> prefixes every message.
    /// </summary>
    public static void Check(Tensor a, Tensor b, string metric, string nameA = "a", string nameB = "b")
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        CheckOne(a, metric, nameA);
        CheckOne(b, metric, nameB);
        if (a.shape[1] != b.shape[1])
            throw new DiffusionLabException(
                $"{metric}: {nameA} and {nameB} have points of different dimension ({a.shape[1]} vs {b.shape[1]})");
    }

    /// <summary>Throws unless <paramref name="t"/> has at least <paramref name="count"/> points (rows).</summary>
    public static void RequireAtLeast(Tensor t, long count, string metric, string name)
    {
        if (t.shape[0] < count)
            throw new DiffusionLabException($"{metric}: needs at least {count} {name} points; got {t.shape[0]}");
    }

    /// <summary>The points as float64 on their own device: every metric here accumulates in double precision.</summary>
    public static Tensor ToFloat64(Tensor t) => t.to_type(ScalarType.Float64);

    private static void CheckOne(Tensor t, string metric, string name)
    {
        if (t.dim() != 2)
            throw new DiffusionLabException(
                $"{metric}: {name} must be a 2-D tensor [N, D] of points; got shape [{string.Join(", ", t.shape)}]");
        if (t.shape[0] == 0) throw new DiffusionLabException($"{metric}: {name} is empty; needs at least one point");
        if (t.shape[1] == 0) throw new DiffusionLabException($"{metric}: {name} has points with no coordinates (D = 0)");
        using var scope = torch.NewDisposeScope();
        if (!torch.isfinite(t).all().item<bool>())
            throw new DiffusionLabException($"{metric}: {name} contains NaN or infinite coordinates");
    }
}
