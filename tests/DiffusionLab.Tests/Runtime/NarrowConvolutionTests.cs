using DiffusionLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Runtime;

/// <summary>
/// Convolutions over an image's 1 or 3 channels, run as the networks run them (padded to whole channel blocks), against
/// ATen's float32 reference: output, input gradient and weight gradient, NCHW and channels-last, float32 and (where the CPU
/// has bfloat16 arithmetic) bfloat16, with every new buffer NaN-filled so that a read of unwritten memory shows. Unpadded,
/// the float32 input gradient of 32 → 3 was off by 20–60 % on AMD family 26 (Zen 5).
/// </summary>
public class NarrowConvolutionTests
{
    [Theory]
    [InlineData(32, 3, false)]
    [InlineData(32, 1, false)]
    [InlineData(3, 32, false)]
    [InlineData(1, 16, false)]
    [InlineData(3, 3, false)]
    [InlineData(32, 3, true)]
    [InlineData(3, 32, true)]
    public void PaddedChannelsGiveATensReferenceResults(int cin, int cout, bool transposed)
    {
        NativeRuntime.Configure();
        var fill = NativeRuntime.Fill;
        bool wasEnabled = NativeRuntime.MkldnnSwitch();
        var types = new List<ScalarType> { ScalarType.Float32 };
        if (CpuInfo.Host.HasBFloat16Arithmetic && NativeRuntime.OneDnnBFloat16Checked) types.Add(ScalarType.BFloat16);
        try
        {
            NativeRuntime.SetAllocationFill(AllocationFill.Junk);
            var g = new Generator(7);
            foreach (var type in types)
            foreach (bool nhwc in new[] { false, true })
            {
                using var scope = NewDisposeScope();
                // operands exactly representable in the type under test, so both sides see the same numbers
                Tensor R(double scale, params long[] shape) => (randn(shape, generator: g) * scale).to_type(type).to_type(ScalarType.Float32);
                var w = transposed ? R(0.2, cin, cout, 4, 4) : R(0.2, cout, cin, 3, 3);
                var b = R(0.1, cout);
                var x = R(1, 8, cin, 16, 16);
                Tensor Reference(Tensor xx, Tensor ww, Tensor? bb) => transposed
                    ? nn.functional.conv_transpose2d(xx, ww, bb, strides: [2, 2], padding: [1, 1])
                    : nn.functional.conv2d(xx, ww, bb, padding: [1, 1]);
                NativeRuntime.SetMkldnn(false);
                var xr = x.detach().requires_grad_(true);
                var wr = w.detach().requires_grad_(true);
                var yr = Reference(xr, wr, b);
                var gy = R(1, yr.shape);
                yr.backward([gy]);

                NativeRuntime.SetMkldnn(true);
                Tensor L(Tensor t) => nhwc ? MixedPrecision.ToChannelsLast(t) : t;
                var xd = L(x.to_type(type)).detach().requires_grad_(true);
                var wd = w.detach().requires_grad_(true);
                var yd = MixedPrecision.NarrowConvolution(wd, b, xd, t => t.to_type(type), L, transposed, (xp, wp, bp) => Reference(xp, wp, bp));
                Assert.Equal(yr.shape, yd.shape);
                yd.backward([L(gy.to_type(type))]);
                // float32: summation order only; bfloat16: one rounding of each result (2⁻⁸) on top
                double tolerance = type == ScalarType.BFloat16 ? Math.Pow(2, -8) : 0;
                AssertClose(yd, yr, tolerance, $"output {type} {(nhwc ? "NHWC" : "NCHW")}");
                AssertClose(xd.grad!, xr.grad!, tolerance, $"input gradient {type} {(nhwc ? "NHWC" : "NCHW")}");
                // the weight gradient sums over the whole batch and every position: bfloat16 products, float32 sums
                AssertClose(wd.grad!, wr.grad!, type == ScalarType.BFloat16 ? 2 * Math.Pow(2, -8) : 0, $"weight gradient {type} {(nhwc ? "NHWC" : "NCHW")}");
            }
        }
        finally
        {
            NativeRuntime.SetAllocationFill(fill);
            NativeRuntime.SetMkldnn(wasEnabled);
        }
    }

    /// <summary>|a − e| ≤ relative·|e| + 10⁻⁴ of the reference's scale per element (float32 reordering).</summary>
    private static void AssertClose(Tensor actual, Tensor expected, double relative, string what)
    {
        var a = actual.detach().to_type(ScalarType.Float32);
        var e = expected.detach();
        Assert.True(a.isfinite().all().item<bool>(), $"{what}: not finite");
        double scale = Math.Max(1.0, e.abs().max().item<float>());
        double excess = ((a - e).abs() - e.abs() * relative).max().item<float>() / scale;
        Assert.True(excess <= 1e-4, $"{what}: error {excess:E2} of the scale");
    }
}
