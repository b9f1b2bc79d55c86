
namespace DiffusionLab;

/// <summary>Small tensor helpers shared by the forward process, samplers and losses.</summary>
public static class TensorOps
{
    /// <summary>
    /// Picks <paramref name="table"/>[t_i] for each sample and reshapes to [B, 1, …, 1] with the rank of
    /// <paramref name="like"/>, so per-sample coefficients broadcast over data of any shape (2-D points,
    /// images, …) — the <c>extract</c> helper of denoising-diffusion-pytorch, dimension-agnostic.
    /// </summary>
    public static Tensor Extract(Tensor table, Tensor t, Tensor like)
    {
        var values = table.to(like.device).index_select(0, t.to(like.device).to_type(ScalarType.Int64)).to_type(like.dtype);
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = t.shape[0];
        return values.reshape(shape);
    }

    /// <summary>The same value <paramref name="t"/> for every sample of <paramref name="x"/>, [B], in x's dtype and device
    /// (a time every network of a batch sees alike).</summary>
    public static Tensor Times(Tensor x, double t) => torch.full(x.shape[0], t, dtype: x.dtype, device: x.device);

    /// <summary>Reshapes per-sample values [B] to [B, 1, …, 1] with the rank of <paramref name="like"/> (any data rank).</summary>
    public static Tensor ToRankOf(Tensor perSample, Tensor like)
    {
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = perSample.shape[0];
        return perSample.to(like.device).to_type(like.dtype).reshape(shape);
    }

    /// <summary>
    /// The floating type of a network's side inputs (time, one-hot classes) for input <paramref name="x"/>: float64 for a
    /// float64 model, else float32 — also under bf16 autocast, where a bf16 time would round 999/1000 to 1.
    /// </summary>
    public static ScalarType SideInputType(Tensor x) => x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>Creates a seeded generator on <paramref name="device"/> so sampling is reproducible per command.</summary>
    public static Generator SeededGenerator(long seed, Device? device = null) =>
        new Generator((ulong)seed, device ?? CPU);

    /// <summary>
    /// A .NET <see cref="Random"/> for (seed, epoch): the same on every run and machine, unlike <c>HashCode.Combine</c>,
    /// whose hashes are randomised per process. Used for the per-epoch shuffles of the training loops.
    /// </summary>
    public static Random EpochRandom(long seed, int epoch) => new(unchecked((int)(seed * 1_000_003 + epoch)));

    /// <summary>
    /// <paramref name="f"/>(<paramref name="t"/>), then <paramref name="t"/> disposed (unless f returned it): for an
    /// intermediate that only the next layer reads, so a forward pass frees each activation as soon as it has been read,
    /// as PyTorch's reference counting does. Holding them all to the end of the pass instead made the DDPM U-Net's
    /// sampling step need twice the peer's memory and fragmented glibc's heap, which then grew by a gigabyte per step
    /// (docs/RESULTS.md). Safe in training: autograd keeps its own references to what the backward pass reads.
    /// </summary>
    public static Tensor Consume(this Tensor t, Func<Tensor, Tensor> f)
    {
        var result = f(t);
        if (!ReferenceEquals(result, t)) t.Dispose();
        return result;
    }
}
