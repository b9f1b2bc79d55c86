using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;
using static DiffusionLab.Tests.Metrics.PointSetData;

namespace DiffusionLab.Tests.Metrics;

public class ChamferDistanceTests
{
    public static TheoryData<bool, ChamferReduction, bool> AllOptions()
    {
        var data = new TheoryData<bool, ChamferReduction, bool>();
        foreach (var squared in new[] { false, true })
            foreach (var reduction in new[] { ChamferReduction.Sum, ChamferReduction.Mean })
                foreach (var both in new[] { false, true })
                    data.Add(squared, reduction, both);
        return data;
    }

    /// <summary>The definition, written as the obvious double loop.</summary>
    private static double BruteForce(double[,] a, double[,] b, bool squared, ChamferReduction reduction, bool both)
    {
        double Direction(double[,] from, double[,] to)
        {
            double total = 0;
            for (int i = 0; i < from.GetLength(0); i++)
            {
                double best = double.PositiveInfinity;
                for (int j = 0; j < to.GetLength(0); j++) best = Math.Min(best, SquaredDistance(from, i, to, j));
                total += squared ? best : Math.Sqrt(best);
            }
            return reduction == ChamferReduction.Mean ? total / from.GetLength(0) : total;
        }
        return Direction(a, b) + (both ? Direction(b, a) : 0);
    }

    [Theory]
    [MemberData(nameof(AllOptions))]
    public void MatchesBruteForceForEveryOptionCombination(bool squared, ChamferReduction reduction, bool both)
    {
        using var scope = torch.NewDisposeScope();
        var options = new ChamferOptions { Squared = squared, Reduction = reduction, BothDirections = both };
        foreach (var (n, m, dim) in new[] { (13, 17, 1), (20, 9, 2), (31, 31, 3), (8, 40, 7), (1, 5, 2) })
        {
            var a = Random(n, dim, seed: 10 * n + dim);
            var b = Random(m, dim, seed: 10 * m + dim + 1);
            double expected = BruteForce(a, b, squared, reduction, both);
            Assert.Equal(expected, ChamferDistance.Compute(ToTensor(a), ToTensor(b), options), 1e-12);
            // Blocks of one row at a time give the same answer as the whole matrix at once.
            Assert.Equal(expected, ChamferDistance.ComputeChecked(ToTensor(a), ToTensor(b), options, blockElements: 1), 1e-12);
        }
    }

    [Fact]
    public void HandCheckedAsymmetricCase()
    {
        // a = {0}, b = {0, 10} on a line: a → b is 0, b → a is 0 and 10.
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new[] { 0.0 }).reshape(1, 1);
        var b = torch.tensor(new[] { 0.0, 10.0 }).reshape(2, 1);
        double Cd(bool squared, ChamferReduction r, bool both, Tensor x, Tensor y) =>
            ChamferDistance.Compute(x, y, new ChamferOptions { Squared = squared, Reduction = r, BothDirections = both });
        Assert.Equal(0, Cd(true, ChamferReduction.Sum, false, a, b));
        Assert.Equal(100, Cd(true, ChamferReduction.Sum, false, b, a));
        Assert.Equal(100, Cd(true, ChamferReduction.Sum, true, a, b));
        Assert.Equal(50, Cd(true, ChamferReduction.Mean, true, a, b));
        Assert.Equal(10, Cd(false, ChamferReduction.Sum, true, a, b));
        Assert.Equal(5, Cd(false, ChamferReduction.Mean, true, b, a));
    }

    [Fact]
    public void BlocksCoverEveryRowAndColumnWhenTheyDoNotDivideEvenly()
    {
        using var scope = torch.NewDisposeScope();
        var a = ToTensor(Random(101, 3, seed: 1));
        var b = ToTensor(Random(7, 3, seed: 2));
        var (aToB, bToA) = ChamferDistance.NearestNeighbourDistances(a, b, bothDirections: true, long.MaxValue);
        var (bToAOnly, none) = ChamferDistance.NearestNeighbourDistances(b, a, bothDirections: false, long.MaxValue);
        Assert.Null(none);
        Assert.True(bToA!.eq(bToAOnly).all().item<bool>());
        foreach (var block in new long[] { 1, 7, 20, 699, 700 })
        {
            var (rows, columns) = ChamferDistance.NearestNeighbourDistances(a, b, bothDirections: true, block);
            Assert.Equal(new long[] { 101 }, rows.shape);
            Assert.True(rows.eq(aToB).all().item<bool>(), $"rows, block of {block} entries");
            Assert.True(columns!.eq(bToA).all().item<bool>(), $"columns, block of {block} entries");
        }
    }

    [Fact]
    public void AcceptsFloat32AndIsExactForIdenticalSets()
    {
        using var scope = torch.NewDisposeScope();
        var p = Random(50, 2, seed: 3);
        var options = new ChamferOptions { Squared = false, Reduction = ChamferReduction.Sum };
        Assert.Equal(0, ChamferDistance.Compute(ToTensor(p, ScalarType.Float32), ToTensor(p, ScalarType.Float32), options));
        var q = Random(60, 2, seed: 4);
        Assert.Equal(BruteForce(p, q, false, ChamferReduction.Sum, true),
            ChamferDistance.Compute(ToTensor(p, ScalarType.Float32), ToTensor(q, ScalarType.Float32), options), 1e-4);
    }

    [Fact]
    public void Sum2048IsZeroForIdenticalSetsAndCountsTheShiftTwicePerPoint()
    {
        using var scope = torch.NewDisposeScope();
        // A 64 × 32 grid with spacing 1, shifted by v = (0.01, −0.02): every point's nearest neighbour is its own
        // shifted copy, so each of the 2 · 2048 terms is ‖v‖² = 5e-4.
        var grid = Grid(2048, 64);
        Assert.Equal(0, ChamferDistance.Sum2048(ToTensor(grid), ToTensor(grid)));
        double shifted = ChamferDistance.Sum2048(ToTensor(Grid(2048, 64, 0.01, -0.02)), ToTensor(grid));
        Assert.Equal(2 * 2048 * 5e-4, shifted, 1e-10);
    }

    [Fact]
    public void Sum2048IsSquaredSumBothDirectionsOnTheFirst2048Points()
    {
        using var scope = torch.NewDisposeScope();
        var g = Random(2100, 2, seed: 5);
        var x = Random(2048, 2, seed: 6);
        var options = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Sum, BothDirections = true };
        var first = ToTensor(g).narrow(0, 0, 2048);
        Assert.Equal(ChamferDistance.Compute(first, ToTensor(x), options), ChamferDistance.Sum2048(ToTensor(g), ToTensor(x)), 1e-12);
        Assert.Equal(BruteForce(Permute(g, Enumerable.Range(0, 2048).ToArray()), x, true, ChamferReduction.Sum, true),
            ChamferDistance.Sum2048(ToTensor(g), ToTensor(x)), 1e-9);
    }

    [Fact]
    public void Sum2048RejectsTooFewPoints()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<DiffusionLabException>(() =>
            ChamferDistance.Sum2048(torch.zeros(2048, 2), torch.zeros(2047, 2)));
        Assert.Equal("chamfer sum2048: needs at least 2048 data points; got 2047", e.Message);
        Assert.Contains("2048 generated points; got 10",
            Assert.Throws<DiffusionLabException>(() => ChamferDistance.Sum2048(torch.zeros(10, 2), torch.zeros(2048, 2))).Message);
    }

    [Fact]
    public void Group100IsZeroForIdenticalSetsAndTheMeanShiftForAGrid()
    {
        using var scope = torch.NewDisposeScope();
        // Every group of 100 consecutive grid points contains each point's shifted copy: per group ‖v‖² + ‖v‖².
        var grid = Grid(10_000, 100);
        Assert.Equal(0, ChamferDistance.Group100(ToTensor(grid), ToTensor(grid)));
        Assert.Equal(2 * 5e-4, ChamferDistance.Group100(ToTensor(Grid(10_000, 100, -0.02, 0.01)), ToTensor(grid)), 1e-12);
    }

    [Fact]
    public void Group100ComparesGroupIOnlyWithGroupI()
    {
        using var scope = torch.NewDisposeScope();
        // Data: x_k = (k, 0). Generated: the same line moved by 100, so generated group i is data group i + 1.
        // One Chamfer over all points would be tiny, but within group i every generated point 100i + 100 + r is
        // r + 1 beyond the group's last data point, and every data point 100i + r is 100 − r before the first
        // generated one: mean_r (r + 1)² twice = 2 · Σ_{k=1}^{100} k² / 100 = 6767.
        var data = ToTensor(Grid(10_000, 10_000));
        var generated = ToTensor(Grid(10_000, 10_000, dx: 100));
        Assert.Equal(6767, ChamferDistance.Group100(generated, data), 1e-9);
        var mean = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Mean };
        Assert.Equal(2 * 338_350 / 10_000.0, ChamferDistance.Compute(generated, data, mean), 1e-9); // only the 100 overhanging points count
    }

    [Fact]
    public void Group100IsTheMeanOfPerGroupSymmetricMeanChamfers()
    {
        using var scope = torch.NewDisposeScope();
        var g = Random(10_050, 2, seed: 7);
        var x = Random(10_000, 2, seed: 8);
        double expected = 0;
        for (int i = 0; i < 100; i++)
        {
            var rows = Enumerable.Range(100 * i, 100).ToArray();
            expected += BruteForce(Permute(g, rows), Permute(x, rows), true, ChamferReduction.Mean, true);
        }
        Assert.Equal(expected / 100, ChamferDistance.Group100(ToTensor(g), ToTensor(x)), 1e-12);
    }

    [Fact]
    public void Group100RejectsTooFewPoints() =>
        Assert.Equal("chamfer group100: needs at least 10000 generated points; got 9999",
            Assert.Throws<DiffusionLabException>(() => ChamferDistance.Group100(torch.zeros(9_999, 2), torch.zeros(10_000, 2))).Message);

    public static TheoryData<long[], long[], string> BadShapes => new()
    {
        { [5], [5, 2], "chamfer: a must be a 2-D tensor [N, D] of points; got shape [5]" },
        { [5, 2], [1, 5, 2], "chamfer: b must be a 2-D tensor [N, D] of points; got shape [1, 5, 2]" },
        { [5, 2], [5, 3], "chamfer: a and b have points of different dimension (2 vs 3)" },
        { [0, 2], [5, 2], "chamfer: a is empty; needs at least one point" },
        { [5, 2], [0, 2], "chamfer: b is empty; needs at least one point" },
        { [5, 0], [5, 0], "chamfer: a has points with no coordinates (D = 0)" },
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void BadShapesGiveClearErrors(long[] shapeA, long[] shapeB, string message)
    {
        using var scope = torch.NewDisposeScope();
        var options = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Mean };
        var e = Assert.Throws<DiffusionLabException>(() => ChamferDistance.Compute(torch.zeros(shapeA), torch.zeros(shapeB), options));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void NonFiniteCoordinatesAreRejected()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.zeros(4, 2);
        a[2, 1] = torch.tensor(float.NaN);
        var options = new ChamferOptions { Squared = true, Reduction = ChamferReduction.Mean };
        Assert.Equal("chamfer: a contains NaN or infinite coordinates",
            Assert.Throws<DiffusionLabException>(() => ChamferDistance.Compute(a, torch.zeros(3, 2), options)).Message);
    }
}
