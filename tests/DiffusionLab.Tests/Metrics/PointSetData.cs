using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Metrics;

/// <summary>Point sets as plain arrays (for brute-force references) and as tensors (for the metrics).</summary>
internal static class PointSetData
{
    /// <summary>n points in D dimensions, uniform in [−1, 1)^D, from a fixed seed.</summary>
    public static double[,] Random(int n, int dim, int seed)
    {
        var rng = new System.Random(seed);
        var p = new double[n, dim];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < dim; k++)
                p[i, k] = 2 * rng.NextDouble() - 1;
        return p;
    }

    /// <summary>The first n points of a w-wide grid with spacing 1 in the plane, row by row, offset by (dx, dy).</summary>
    public static double[,] Grid(int n, int width, double dx = 0, double dy = 0)
    {
        var p = new double[n, 2];
        for (int i = 0; i < n; i++)
        {
            p[i, 0] = i % width + dx;
            p[i, 1] = i / width + dy;
        }
        return p;
    }

    public static Tensor ToTensor(double[,] p, ScalarType dtype = ScalarType.Float64)
    {
        int n = p.GetLength(0), d = p.GetLength(1);
        var flat = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++)
                flat[i * d + k] = p[i, k];
        return torch.tensor(flat, new long[] { n, d }, dtype: ScalarType.Float64).to_type(dtype);
    }

    public static double SquaredDistance(double[,] a, int i, double[,] b, int j)
    {
        double s = 0;
        for (int k = 0; k < a.GetLength(1); k++)
        {
            double diff = a[i, k] - b[j, k];
            s += diff * diff;
        }
        return s;
    }

    /// <summary>Rows of <paramref name="p"/> in the order given by <paramref name="order"/>.</summary>
    public static double[,] Permute(double[,] p, int[] order)
    {
        var q = new double[order.Length, p.GetLength(1)];
        for (int i = 0; i < order.Length; i++)
            for (int k = 0; k < p.GetLength(1); k++)
                q[i, k] = p[order[i], k];
        return q;
    }

    /// <summary>A random permutation of 0..n−1 from a fixed seed.</summary>
    public static int[] Shuffle(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new System.Random(seed).Shuffle(order);
        return order;
    }
}
