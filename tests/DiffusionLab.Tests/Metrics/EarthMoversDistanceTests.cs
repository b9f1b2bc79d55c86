using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;
using static DiffusionLab.Tests.Metrics.PointSetData;

namespace DiffusionLab.Tests.Metrics;

public class EarthMoversDistanceTests
{
    /// <summary>min over every injective map rows → cols of Σ c[i, σ(i)], by exhaustive search.</summary>
    private static double BruteForceAssignmentCost(double[,] cost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        var taken = new bool[cols];
        double best = double.PositiveInfinity;
        void Search(int i, double sum)
        {
            if (i == rows) { best = Math.Min(best, sum); return; }
            for (int j = 0; j < cols; j++)
            {
                if (taken[j]) continue;
                taken[j] = true;
                Search(i + 1, sum + cost[i, j]);
                taken[j] = false;
            }
        }
        Search(0, 0);
        return best;
    }

    private static double[,] DistanceMatrix(double[,] a, double[,] b)
    {
        var c = new double[a.GetLength(0), b.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < b.GetLength(0); j++)
                c[i, j] = Math.Sqrt(SquaredDistance(a, i, b, j));
        return c;
    }

    private static void AssertIsInjective(int[] assignment, int cols)
    {
        Assert.All(assignment, j => Assert.InRange(j, 0, cols - 1));
        Assert.Equal(assignment.Length, assignment.Distinct().Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MatchesBruteForceOverAllPermutations(int dim)
    {
        using var scope = torch.NewDisposeScope();
        for (int n = 1; n <= 7; n++)
        {
            var a = Random(n, dim, seed: 100 * n + dim);
            var b = Random(n, dim, seed: 100 * n + dim + 50);
            double expected = BruteForceAssignmentCost(DistanceMatrix(a, b)) / n; // mean matched distance
            Assert.Equal(expected, EarthMoversDistance.Compute(ToTensor(a), ToTensor(b)), 1e-12);
        }
    }

    [Fact]
    public void AssignmentMatchesBruteForceOnGeneralCostMatrices()
    {
        // Negative costs, many ties (small integers), and every third matrix with spare columns.
        var rng = new System.Random(42);
        for (int trial = 0; trial < 200; trial++)
        {
            int rows = rng.Next(1, 7), cols = trial % 3 == 0 ? Math.Min(7, rows + rng.Next(1, 4)) : rows;
            bool integer = trial % 2 == 0;
            var cost = new double[rows, cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    cost[i, j] = integer ? rng.Next(-3, 4) : 200 * rng.NextDouble() - 100;
            var assignment = LinearAssignment.Solve(cost);
            Assert.Equal(rows, assignment.Length);
            AssertIsInjective(assignment, cols);
            Assert.Equal(BruteForceAssignmentCost(cost), LinearAssignment.Cost(cost, assignment), 1e-9);
        }
    }

    [Fact]
    public void IdenticalSetsInAnotherOrderAreZeroAndMatchedBack()
    {
        using var scope = torch.NewDisposeScope();
        var a = Random(300, 2, seed: 9);
        var order = Shuffle(300, seed: 10);
        var b = Permute(a, order); // b[k] = a[order[k]]
        Assert.Equal(0, EarthMoversDistance.Compute(ToTensor(a), ToTensor(b)));
        var match = EarthMoversDistance.Match(ToTensor(a), ToTensor(b));
        for (int k = 0; k < 300; k++) Assert.Equal(k, match[order[k]]);
    }

    [Fact]
    public void IsNonNegativeAndSymmetric()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (n, dim) in new[] { (50, 2), (120, 3), (64, 10) })
        {
            var a = ToTensor(Random(n, dim, seed: n));
            var b = ToTensor(Random(n, dim, seed: n + 1));
            double ab = EarthMoversDistance.Compute(a, b), ba = EarthMoversDistance.Compute(b, a);
            Assert.True(ab > 0);
            Assert.Equal(ab, ba, 1e-12);
        }
    }

    [Fact]
    public void ATranslationCostsExactlyItsLength()
    {
        // Σ_i ‖b_σ(i) − a_i‖ ≥ Σ_i (b_σ(i) − a_i)·v/‖v‖ = n‖v‖ for b = a + v, and σ = id attains it.
        using var scope = torch.NewDisposeScope();
        var a = ToTensor(Random(200, 2, seed: 11));
        var v = torch.tensor(new[] { 0.3, -0.4 });
        var b = ToTensor(Permute(Random(200, 2, seed: 11), Shuffle(200, seed: 12))) + v;
        Assert.Equal(0.5, EarthMoversDistance.Compute(a, b), 1e-12);
    }

    [Fact]
    public void OneDimensionalSetsMatchInSortedOrder()
    {
        // On a line the optimal matching pairs the k-th smallest with the k-th smallest (W1 between empirical CDFs).
        using var scope = torch.NewDisposeScope();
        var a = Random(1000, 1, seed: 13);
        var b = Random(1000, 1, seed: 14);
        var sa = Enumerable.Range(0, 1000).Select(i => a[i, 0]).Order().ToArray();
        var sb = Enumerable.Range(0, 1000).Select(i => 3 * b[i, 0]).Order().ToArray();
        double expected = sa.Zip(sb, (x, y) => Math.Abs(x - y)).Average();
        Assert.Equal(expected, EarthMoversDistance.Compute(ToTensor(a), 3 * ToTensor(b)), 1e-12);
    }

    [Fact]
    public void AcceptsFloat32()
    {
        using var scope = torch.NewDisposeScope();
        var a = Random(40, 2, seed: 15);
        var b = Random(40, 2, seed: 16);
        Assert.Equal(EarthMoversDistance.Compute(ToTensor(a), ToTensor(b)),
            EarthMoversDistance.Compute(ToTensor(a, ScalarType.Float32), ToTensor(b, ScalarType.Float32)), 1e-6);
    }

    public static TheoryData<long[], long[], string> BadShapes => new()
    {
        { [5, 2], [6, 2], "emd: needs point sets of equal size for a one-to-one matching; got 5 and 6 points" },
        { [0, 2], [0, 2], "emd: a is empty; needs at least one point" },
        { [5], [5], "emd: a must be a 2-D tensor [N, D] of points; got shape [5]" },
        { [5, 2], [5, 2, 1], "emd: b must be a 2-D tensor [N, D] of points; got shape [5, 2, 1]" },
        { [5, 2], [5, 3], "emd: a and b have points of different dimension (2 vs 3)" },
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void BadShapesGiveClearErrors(long[] shapeA, long[] shapeB, string message)
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<DiffusionLabException>(() => EarthMoversDistance.Compute(torch.zeros(shapeA), torch.zeros(shapeB)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void AssignmentRejectsMoreRowsThanColumnsAndNonFiniteCosts()
    {
        Assert.Equal("assignment: 3 rows cannot each get a distinct column out of 2; needs rows <= cols",
            Assert.Throws<DiffusionLabException>(() => LinearAssignment.Solve(new double[3, 2])).Message);
        Assert.Equal("assignment: cost matrix contains NaN or infinite entries",
            Assert.Throws<DiffusionLabException>(() => LinearAssignment.Solve(new[,] { { 0, double.NaN }, { 1, 2 } })).Message);
        Assert.Empty(LinearAssignment.Solve(new double[0, 0]));
    }
}
