namespace DiffusionLab;

/// <summary>
/// Where the Gaussian noise of sampling and editing comes from: one torch generator for the whole batch (any
/// <see cref="Generator"/> converts to this), or one generator per sample (<see cref="PerSample"/>), so that sample i's
/// noise is a function of (seed, i) alone, whatever the batch size or the shard it falls in — what diffusers gives with a
/// list of generators, one per image.
/// </summary>
public abstract class NoiseGenerator
{
    /// <summary>Standard normal noise of <paramref name="shape"/> (the first dimension is the batch).</summary>
    public abstract Tensor Randn(long[] shape, ScalarType dtype, Device device);

    /// <summary>Standard normal noise shaped like <paramref name="x"/>, from <paramref name="generator"/> (null: torch's global generator).</summary>
    public static Tensor RandnLike(Tensor x, NoiseGenerator? generator) =>
        generator is null ? torch.randn(x.shape, dtype: x.dtype).to(x.device) : generator.Randn(x.shape, x.dtype, x.device);

    public static implicit operator NoiseGenerator?(Generator? generator) => generator is null ? null : new Batched(generator);

    /// <summary>The whole batch from one generator (on the CPU, then moved, so devices draw the same numbers).</summary>
    private sealed class Batched(Generator generator) : NoiseGenerator
    {
        public override Tensor Randn(long[] shape, ScalarType dtype, Device device) =>
            torch.randn(shape, dtype: dtype, generator: generator).to(device);
    }

    /// <summary>
    /// Samples <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 of a run seeded with
    /// <paramref name="seed"/>, each with its own generator: row r of every draw comes from sample first + r's generator.
    /// </summary>
    public static PerSampleNoise PerSample(long seed, long first, int count) => new(seed, first, count);
}

/// <summary>One generator per sample (<see cref="NoiseGenerator.PerSample"/>); dispose it to free the generators.</summary>
public sealed class PerSampleNoise : NoiseGenerator, IDisposable
{
    private readonly Generator[] _generators;

    internal PerSampleNoise(long seed, long first, int count)
    {
        if (count < 1) throw new DiffusionLabException($"`count` must be positive, got {count}");
        if (first < 0) throw new DiffusionLabException($"`first` must be at least 0, got {first}");
        _generators = Enumerable.Range(0, count).Select(r => TensorOps.SeededGenerator(SampleSeed(seed, first + r))).ToArray();
    }

    /// <summary>
    /// The seed of sample <paramref name="index"/> in a run seeded with <paramref name="seed"/>: SplitMix64's finaliser
    /// (Steele et al. 2014) of the pair, so that neighbouring indices and neighbouring seeds give unrelated streams.
    /// </summary>
    public static long SampleSeed(long seed, long index)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & long.MaxValue);
    }

    public override Tensor Randn(long[] shape, ScalarType dtype, Device device)
    {
        if (shape.Length == 0 || shape[0] != _generators.Length)
            throw new DiffusionLabException($"per-sample noise for {_generators.Length} samples was asked for a batch of shape [{string.Join(", ", shape)}]");
        using var scope = torch.NewDisposeScope();
        var row = shape[1..];
        var rows = _generators.Select(g => torch.randn(row, dtype: dtype, generator: g)).ToArray();
        return torch.stack(rows, 0).to(device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var g in _generators) g.Dispose();
    }
}
