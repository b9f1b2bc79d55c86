using System.Globalization;

namespace DiffusionLab;

/// <summary>
/// Part <see cref="Index"/> of a job split <see cref="Count"/> ways between processes or machines — a Slurm array task, a
/// Kubernetes indexed job, an MPI rank — each run with the same arguments and its own K. A part takes a contiguous run of
/// whole batches of the unsplit job, so every batch is computed exactly as the unsplit job computes it, and the union of
/// the N parts is byte-identical to it, whatever N.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(0, 1);

    public bool IsWhole => Count == 1;

    /// <summary>"K/N" with 0 ≤ K &lt; N (K counts from 0, as $SLURM_ARRAY_TASK_ID and $JOB_COMPLETION_INDEX do).</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || n < 1 || k >= n)
            throw new DiffusionLabException($"`shard` must be K/N with 0 ≤ K < N (e.g. 0/4 … 3/4), got '{text}'");
        return new Shard(k, n);
    }

    /// <summary>
    /// The items [Start, End) of <paramref name="n"/> that this part handles when the job runs in batches of
    /// <paramref name="batchSize"/>: batches ⌊K·B/N⌋ … ⌊(K+1)·B/N⌋ − 1 of the B batches (possibly none when N &gt; B).
    /// </summary>
    public (int Start, int End) Range(int n, int batchSize)
    {
        if (n < 0) throw new DiffusionLabException($"`n` must be at least 0, got {n}");
        if (batchSize < 1) throw new DiffusionLabException($"`batchSize` must be positive, got {batchSize}");
        long batches = ((long)n + batchSize - 1) / batchSize;
        long first = Index * batches / Count, last = (Index + 1) * batches / Count;
        return ((int)Math.Min(n, first * batchSize), (int)Math.Min(n, last * batchSize));
    }

    /// <summary>The subfolder of the output folder this part writes to: <c>shard-K-of-N</c>, so that parts never share a folder.</summary>
    public string FolderName => string.Create(CultureInfo.InvariantCulture, $"shard-{Index}-of-{Count}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
