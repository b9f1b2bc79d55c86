using System.Security.Cryptography;
using DiffusionLab.Runtime;
using TorchSharp.Modules;

namespace DiffusionLab.Training;

/// <summary>
/// Synchronous data-parallel training over a communicator (<see cref="ICommunicator"/>, MPI): every rank holds the whole
/// model and computes the gradient of its slice of the same global batch; the gradients are averaged with one all-reduce
/// over a single flat buffer per step (Horovod's pattern, Sergeev &amp; Del Balso 2018), so every rank applies the same
/// update and the weights stay identical — the update of one process with the whole batch, up to float rounding. Rank 0
/// alone writes; the ranks check at every checkpoint that their weights still agree bit for bit.
/// </summary>
public sealed class DataParallel
{
    private readonly ICommunicator _ranks;
    private long _allReduceTicks;

    public DataParallel(ICommunicator ranks)
    {
        _ranks = ranks;
    }

    public int Rank => _ranks.Rank;
    public int Size => _ranks.Size;
    public bool IsWriter => _ranks.Rank == 0;

    /// <summary>
    /// This rank's part [Start, Start + Count) of a global batch of <paramref name="batch"/> samples: equal slices, so the
    /// mean of the ranks' mean losses is the global batch's mean loss.
    /// </summary>
    public static (int Start, int Count) Slice(int batch, int rank, int size)
    {
        if (batch % size != 0)
            throw new DiffusionLabException($"the batch of {batch} does not split into {size} equal slices: choose a `batchSize` divisible by the number of ranks");
        int count = batch / size;
        return (rank * count, count);
    }

    /// <summary>Copies rank 0's weights (and EMA shadow) to every rank, so the ranks start from one model however they were initialised.</summary>
    public void StartFromRankZero(nn.Module network, nn.Module? shadow)
    {
        foreach (var module in new[] { network, shadow })
        {
            if (module is null) continue;
            var tensors = module.state_dict().Values.Where(t => t.is_floating_point()).ToList();
            var buffer = Flatten(tensors);
            _ranks.Broadcast(buffer, root: 0);
            Unflatten(buffer, tensors, scale: 1);
        }
    }

    /// <summary>
    /// Replaces every gradient by the ranks' mean, and returns the ranks' mean loss and whether any rank asked to stop. A
    /// parameter without a gradient on this step counts as a zero gradient.
    /// </summary>
    public (double MeanLoss, bool Stop) AverageGradients(IReadOnlyList<Parameter> parameters, double loss, bool stop)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad ?? (p.grad = torch.zeros_like(p))).ToList();
        var buffer = Flatten(grads, extra: 2);
        int n = buffer.Length - 2;
        buffer[n] = (float)loss;
        buffer[n + 1] = stop ? 1 : 0;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        _ranks.AllReduceSum(buffer);
        _allReduceTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        Unflatten(buffer, grads, scale: 1.0 / Size);
        return (buffer[n] / Size, buffer[n + 1] > 0);
    }

    /// <summary>The seconds spent in the gradients' all-reduce since the last call (waiting for the slowest rank included).</summary>
    public double TakeAllReduceSeconds()
    {
        double seconds = _allReduceTicks / (double)System.Diagnostics.Stopwatch.Frequency;
        _allReduceTicks = 0;
        return seconds;
    }

    /// <summary>
    /// Throws unless every rank's weights are bit-identical to rank 0's: each rank's SHA-256 of its weights (first 64 bits,
    /// as four 16-bit numbers, exact in float32) goes into its own slots of a sum.
    /// </summary>
    public void CheckRanksAgree(nn.Module network, long step)
    {
        var buffer = new float[4 * Size];
        var digest = Digest(network);
        for (int k = 0; k < 4; k++) buffer[4 * Rank + k] = BitConverter.ToUInt16(digest, 2 * k);
        _ranks.AllReduceSum(buffer);
        for (int r = 1; r < Size; r++)
            for (int k = 0; k < 4; k++)
                if (buffer[4 * r + k] != buffer[k])
                    throw new DiffusionLabException($"after step {step} the weights of rank {r} differ from rank 0's: data-parallel training lost its synchrony (mixed program versions or native settings across the ranks?)");
    }

    private static byte[] Digest(nn.Module network)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, t) in network.state_dict())
        {
            using var cpu = t.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        return sha.GetHashAndReset();
    }

    /// <summary>The tensors' values, one after the other, as float32 — with <paramref name="extra"/> free slots at the end.</summary>
    private static float[] Flatten(IReadOnlyList<Tensor> tensors, int extra = 0)
    {
        using var scope = torch.NewDisposeScope();
        using var flat = torch.cat(tensors.Select(t => t.detach().flatten().to(ScalarType.Float32)).ToArray()).cpu();
        var buffer = new float[flat.numel() + extra];
        flat.data<float>().CopyTo(buffer);
        return buffer;
    }

    private static void Unflatten(float[] buffer, IReadOnlyList<Tensor> tensors, double scale)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long offset = 0;
        var all = torch.tensor(buffer);
        foreach (var t in tensors)
        {
            long n = t.numel();
            var part = all.narrow(0, offset, n).view(t.shape);
            t.copy_(scale == 1 ? part : part * scale);
            offset += n;
        }
    }
}
