using DiffusionLab.Runtime;

namespace DiffusionLab.Benchmarks;

// The bench's cases on the machine's peaks: a float32 matmul and a 3×3 convolution.
public static partial class PerformanceBench
{
    /// <summary>n×n matrix products (fp32, or bf16 under <see cref="BenchOptions.Precision"/> bf16), 2n³ operations each.</summary>
    public static BenchResult Matmul(BenchOptions o, Device device)
    {
        int n = o.MatmulSize;
        const int perRepeat = 10;
        var type = MixedPrecision.Parse(o.Precision) ?? ScalarType.Float32;
        using var a = torch.randn([n, n], generator: TensorOps.SeededGenerator(o.Seed)).to(type).to(device);
        using var b = torch.randn([n, n], generator: TensorOps.SeededGenerator(o.Seed + 1)).to(type).to(device);
        using var noGrad = torch.no_grad();
        var seconds = Timing.Seconds(() =>
        {
            for (int i = 0; i < perRepeat; i++)
            {
                using var c = torch.mm(a, b);
                if (i == perRepeat - 1) c.sum().to_type(ScalarType.Float32).item<float>(); // wait for the result (asynchronous devices)
            }
        }, Math.Max(o.Warmup, 3), o.Repeats); // the peak: a longer warm-up (thread pool, CPU clock)
        double flops = 2.0 * n * n * n * perRepeat;
        var r = Timing.Rate("matmul", "GFLOP/s", flops / 1e9, seconds);
        return r with { Gflops = r.Median, Detail = $"{n}×{n} {o.Precision}, {perRepeat} products per repeat" };
    }

    /// <summary>A 3×3 convolution, stride 1, padding 1, of the CS180 U-Net's widest layer (64 → 64 channels at 28 px, batch 128).</summary>
    public static BenchResult Conv3x3(BenchOptions o, Device device)
    {
        int batch = o.TrainBatch, ch = o.ConvChannels, size = o.ConvSize;
        const int perRepeat = 3;
        using var x = torch.randn([batch, ch, size, size], generator: TensorOps.SeededGenerator(o.Seed)).to(device);
        using var w = (torch.randn([ch, ch, 3, 3], generator: TensorOps.SeededGenerator(o.Seed + 1)) * 0.05).to(device);
        using var noGrad = torch.no_grad();
        var seconds = Timing.Seconds(() =>
        {
            for (int i = 0; i < perRepeat; i++)
            {
                using var y = nn.functional.conv2d(x, w, padding: [1, 1]);
                if (i == perRepeat - 1) y.sum().item<float>();
            }
        }, o.Warmup, o.Repeats);
        double flops = 2.0 * batch * ch * ch * 9 * size * size * perRepeat;
        var r = Timing.Rate("conv3x3", "GFLOP/s", flops / 1e9, seconds);
        return r with { Gflops = r.Median, Detail = $"[{batch}, {ch}, {size}, {size}] ⊛ {ch}×{ch}×3×3, {perRepeat} per repeat" };
    }
}
