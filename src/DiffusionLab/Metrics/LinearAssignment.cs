namespace DiffusionLab.Metrics;

/// <summary>
/// Exact minimum-cost assignment (the linear assignment problem): given costs c[i, j] for R rows and C ≥ R
/// columns, find distinct columns σ(i) minimising Σ_i c[i, σ(i)]. Solved by the shortest-augmenting-path
/// Hungarian method (Kuhn 1955; Jonker &amp; Volgenant 1987): each free row is connected to a free column by a
/// Dijkstra search on reduced costs c[i, j] − u_i − v_j, which the dual potentials u, v keep non-negative, so the
/// matching grows by one row per search and stays optimal for the rows matched so far. Square problems first get
/// Jonker &amp; Volgenant's cheap initial matching, which leaves fewer and shorter searches. O(R²·C) time in the
/// worst case, plain double arrays: n = 2,000 points take about a second (seconds for badly mismatched sets),
/// where a permutation search or a generic LP solver would not finish.
/// </summary>
public static class LinearAssignment
{
    /// <summary>
    /// The optimal assignment for <paramref name="cost"/> [rows, cols] with rows ≤ cols: element i is the column
    /// given to row i. Costs must be finite; any sign is fine. Ties are broken arbitrarily.
    /// </summary>
    public static int[] Solve(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        var flat = new double[(long)rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                flat[(long)i * cols + j] = cost[i, j];
        return Solve(flat, rows, cols);
    }

    /// <summary>Total cost Σ_i c[i, σ(i)] of an assignment returned by <see cref="Solve(double[,])"/>.</summary>
    public static double Cost(double[,] cost, int[] assignment)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(assignment);
        double total = 0;
        for (int i = 0; i < assignment.Length; i++) total += cost[i, assignment[i]];
        return total;
    }

    /// <summary><see cref="Solve(double[,])"/> on a row-major cost array of <paramref name="rows"/> × <paramref name="cols"/>.</summary>
    internal static int[] Solve(double[] cost, int rows, int cols)
    {
        if (rows > cols)
            throw new DiffusionLabException(
                $"assignment: {rows} rows cannot each get a distinct column out of {cols}; needs rows <= cols");
        if (cost.LongLength != (long)rows * cols) throw new ArgumentException("cost array does not hold rows x cols entries", nameof(cost));
        foreach (var c in cost)
            if (!double.IsFinite(c)) throw new DiffusionLabException("assignment: cost matrix contains NaN or infinite entries");

        // 1-based like the textbook formulation: column 0 is a virtual column holding the row being inserted.
        var u = new double[rows + 1];    // row potentials
        var v = new double[cols + 1];    // column potentials
        var owner = new int[cols + 1];   // owner[j] = row assigned to column j (0 = free)
        var assigned = new bool[rows + 1];
        var way = new int[cols + 1];     // previous column on the shortest path to column j
        // Per search: the settled columns with the path length at which each was settled, and the open (not yet
        // settled) columns packed at the front of parallel arrays so the scan reads them in order.
        var settled = new int[cols + 1];
        var settledAt = new double[cols + 1];
        var openCol = new int[cols];
        var openV = new double[cols];    // v_j of the open columns: it only changes once a column is settled
        var openDist = new double[cols]; // tentative path length to the open column
        var openWay = new int[cols];

        if (rows == cols && rows >= 2) Initialise(cost, rows, u, v, owner, assigned);

        for (int i = 1; i <= rows; i++)
        {
            if (assigned[i]) continue;
            // Dijkstra from row i over reduced costs, until the nearest open column is free (Jonker & Volgenant 1987, augmentation).
            owner[0] = i;
            int j0 = 0, settledCount = 0, openCount = cols;
            for (int k = 0; k < cols; k++)
            {
                openCol[k] = k + 1;
                openV[k] = v[k + 1];
                openDist[k] = double.PositiveInfinity;
            }
            double dist = 0; // path length to j0, the column settled last
            while (true)
            {
                settled[settledCount] = j0;
                settledAt[settledCount++] = dist;
                int i0 = owner[j0];
                long row = (long)(i0 - 1) * cols - 1;
                // Path through row i0: dist + (c_{i0 j} − u_{i0} − v_j), the reduced cost (Jonker & Volgenant 1987).
                double baseline = dist - u[i0];
                double best = double.PositiveInfinity;
                int bestK = 0;
                for (int k = 0; k < openCount; k++)
                {
                    double d = cost[row + openCol[k]] + baseline - openV[k];
                    double m = openDist[k];
                    if (d < m) { m = d; openDist[k] = d; openWay[k] = j0; }
                    // On ties prefer a free column: it ends the search (as in Crouse 2016).
                    if (m < best || (m == best && owner[openCol[k]] == 0)) { best = m; bestK = k; }
                }
                int j1 = openCol[bestK];
                way[j1] = openWay[bestK];
                dist = best;
                int last = --openCount;
                openCol[bestK] = openCol[last];
                openV[bestK] = openV[last];
                openDist[bestK] = openDist[last];
                openWay[bestK] = openWay[last];
                j0 = j1;
                if (owner[j0] == 0) break;
            }

            // Dual update for the whole search at once: a column settled at distance d_j (and its row) moves by
            // D − d_j, D = dist to the free column, which keeps every reduced cost ≥ 0 and the new path tight.
            for (int k = 0; k < settledCount; k++)
            {
                int j = settled[k];
                double step = dist - settledAt[k];
                u[owner[j]] += step;
                v[j] -= step;
            }

            // Augment: flip the assignment along the shortest path back to the virtual column.
            do
            {
                int j1 = way[j0];
                owner[j0] = owner[j1];
                j0 = j1;
            } while (j0 != 0);
            assigned[i] = true;
        }

        var assignment = new int[rows];
        for (int j = 1; j <= cols; j++)
            if (owner[j] != 0) assignment[owner[j] - 1] = j - 1;
        return assignment;
    }

    /// <summary>
    /// Jonker &amp; Volgenant's initialisation for square problems (1987: column reduction, then augmenting row
    /// reduction): a cheap partial matching with dual-feasible potentials, so the shortest-path searches only run
    /// for the rows left free. Square only: with spare columns an unmatched column must keep v_j = 0, which the
    /// column reduction breaks. Invariant kept throughout: every matched row i holds a column minimising c_ij − v_j.
    /// </summary>
    private static void Initialise(double[] cost, int n, double[] u, double[] v, int[] owner, bool[] assigned)
    {
        var column = new int[n + 1]; // column[i] = column matched to row i (0 = free)

        // Column reduction: v_j = min_i c_ij, and the minimising row, if still free, takes column j at zero reduced cost.
        for (int j = n; j >= 1; j--)
        {
            int best = 1;
            double min = cost[j - 1];
            for (int i = 2; i <= n; i++)
            {
                double c = cost[(long)(i - 1) * n + j - 1];
                if (c < min) { min = c; best = i; }
            }
            v[j] = min;
            if (column[best] == 0) { column[best] = j; owner[j] = best; }
        }

        // Augmenting row reduction, two passes: a free row takes its cheapest column j1 (by c_ij − v_j), lowering
        // v_j1 until j1 only ties with its second-cheapest column j2, and the row it displaces is queued again.
        var free = new List<int>();
        for (int i = 1; i <= n; i++) if (column[i] == 0) free.Add(i);
        for (int pass = 0; pass < 2 && free.Count > 0; pass++)
        {
            var queue = new Queue<int>(free);
            free.Clear();
            long budget = 4L * n; // bounds the displacement chains; rows still free go to the shortest-path phase
            while (queue.Count > 0)
            {
                int i = queue.Dequeue();
                if (--budget < 0) { free.Add(i); continue; }
                long row = (long)(i - 1) * n - 1;
                double first = double.PositiveInfinity, second = double.PositiveInfinity;
                int j1 = 0, j2 = 0;
                for (int j = 1; j <= n; j++)
                {
                    double h = cost[row + j] - v[j];
                    if (h < second)
                    {
                        if (h >= first) { second = h; j2 = j; }
                        else { second = first; j2 = j1; first = h; j1 = j; }
                    }
                }
                int displaced = owner[j1];
                if (first < second) v[j1] -= second - first; // c_ij1 − v_j1 rises to the second-best value
                else if (displaced != 0) { j1 = j2; displaced = owner[j2]; } // a tie: take the other column instead
                column[i] = j1;
                owner[j1] = i;
                if (displaced != 0)
                {
                    column[displaced] = 0;
                    queue.Enqueue(displaced);
                }
            }
        }

        // u_i = c_{i,σ(i)} − v_σ(i) is the row minimum of c_ij − v_j, so every reduced cost is ≥ 0 and matches are tight.
        for (int i = 1; i <= n; i++)
        {
            if (column[i] == 0) continue;
            assigned[i] = true;
            u[i] = cost[(long)(i - 1) * n + column[i] - 1] - v[column[i]];
        }
    }
}
