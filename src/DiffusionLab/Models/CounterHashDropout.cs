using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>
/// Inverted dropout (Srivastava et al. 2014: zero each element with probability p, scale the rest by 1/(1 − p)) whose
/// keep-mask is a counter-based hash of (seed, element index), filled with SIMD on the managed side; one 64-bit seed per
/// call comes from torch's global generator, so <c>--seed</c> reproduces a run as with <c>nn.Dropout</c>.
/// Why not <c>nn.Dropout</c>: on the CPU, ATen draws its Bernoulli mask one element at a time on one thread (its parallel
/// path is MKL's, Intel only) — about 35 million draws per training step of the 32 px attention U-Net, the largest piece
/// of the forward pass that is not a convolution. A counter-based generator (Salmon et al. 2011, "Parallel random numbers:
/// as easy as 1, 2, 3") needs no sequential state, so the mask is a vector loop over indices. Off the CPU, or in
/// evaluation mode, it falls back to <c>nn.functional.dropout</c> / the identity.
/// </summary>
public sealed class CounterHashDropout : nn.Module<Tensor, Tensor>
{
    private readonly double _p;

    public CounterHashDropout(double p) : base(nameof(CounterHashDropout))
    {
        if (!(p >= 0 && p < 1)) throw new DiffusionLabException($"dropout probability must be in [0, 1), got {p}");
        _p = p;
    }

    public override Tensor forward(Tensor x)
    {
        if (!training || _p == 0) return x.alias();
        if (x.device_type != DeviceType.CPU) return nn.functional.dropout(x, _p, training: true);
        using var scope = torch.NewDisposeScope();
        long seed = torch.randint(long.MaxValue, [1], dtype: ScalarType.Int64).item<long>();
        var mask = KeepMask(x.shape, seed, _p);
        var scaled = x.dtype == ScalarType.Float32 ? x * mask : x * mask.to(x.dtype);
        return scaled.MoveToOuterDisposeScope();
    }

    /// <summary>The float32 mask of <paramref name="shape"/>: 1/(1 − p) where element i is kept, 0 where dropped.</summary>
    public static Tensor KeepMask(long[] shape, long seed, double p)
    {
        var mask = torch.empty(shape, dtype: ScalarType.Float32);
        long n = mask.numel();
        if (n > int.MaxValue) throw new DiffusionLabException($"a dropout mask of {n} elements is larger than this implementation handles (2³¹ − 1)");
        Fill(MemoryMarshal.Cast<byte, float>(mask.bytes), (ulong)seed, p);
        return mask;
    }

    /// <summary>Element i kept when Hash(seed, i) &lt; (1 − p)·2³²; kept elements hold 1/(1 − p).</summary>
    public static void Fill(Span<float> destination, ulong seed, double p)
    {
        uint threshold = KeepThreshold(p);
        float scale = (float)(1 / (1 - p));
        uint lo = (uint)seed, hi = (uint)(seed >> 32);
        int i = 0;
        if (Vector.IsHardwareAccelerated && destination.Length >= Vector<uint>.Count)
        {
            int width = Vector<uint>.Count;
            var lane = new Vector<uint>(Enumerable.Range(0, width).Select(k => (uint)k).ToArray());
            var vlo = new Vector<uint>(lo);
            var vhi = new Vector<uint>(hi);
            var vthreshold = new Vector<uint>(threshold);
            var vscale = new Vector<float>(scale);
            var output = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (int v = 0; v < output.Length; v++, i += width)
            {
                var h = Mix(Mix(new Vector<uint>((uint)i) + lane + vlo) ^ vhi);
                output[v] = Vector.ConditionalSelect(Vector.AsVectorSingle(Vector.LessThan(h, vthreshold)), vscale, Vector<float>.Zero);
            }
        }
        for (; i < destination.Length; i++) destination[i] = Hash(seed, (uint)i) < threshold ? scale : 0f;
    }

    /// <summary>The scalar hash the vector loop computes lane by lane (the reference the tests compare it with).</summary>
    public static uint Hash(ulong seed, uint index) => Mix(Mix(index + (uint)seed) ^ (uint)(seed >> 32));

    /// <summary>(1 − p)·2³², rounded, as the unsigned bound below which a 32-bit hash keeps its element.</summary>
    public static uint KeepThreshold(double p) => (uint)Math.Min(uint.MaxValue, Math.Round((1 - p) * 4294967296.0));

    // Wellons's "lowbias32" integer finaliser (2018: two multiply–xorshift rounds, bias 0.17 in his avalanche measure),
    // scalar and vector forms of the same arithmetic.
    private static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= 0x7feb352dU;
        x ^= x >> 15;
        x *= 0x846ca68bU;
        return x ^ (x >> 16);
    }

    private static Vector<uint> Mix(Vector<uint> x)
    {
        x ^= Vector.ShiftRightLogical(x, 16);
        x *= new Vector<uint>(0x7feb352dU);
        x ^= Vector.ShiftRightLogical(x, 15);
        x *= new Vector<uint>(0x846ca68bU);
        return x ^ Vector.ShiftRightLogical(x, 16);
    }
}
