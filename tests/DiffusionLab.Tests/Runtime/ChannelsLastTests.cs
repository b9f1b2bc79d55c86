using DiffusionLab.Tests.Models;
using DiffusionLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Runtime;

public class ChannelsLastTests
{
    [Fact]
    public void ChannelsLastHasNhwcStridesAndTheSameValues()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 4, 5);
        Assert.False(MixedPrecision.IsChannelsLast(x));
        var y = MixedPrecision.ToChannelsLast(x);
        Assert.True(MixedPrecision.IsChannelsLast(y));
        Assert.Equal(new long[] { 60, 1, 15, 3 }, y.stride()); // C fastest, then W, H, N: PyTorch's channels_last strides
        Assert.Equal(x.shape, y.shape);
        Assert.Equal(0f, (x - y).abs().max().item<float>());
        Assert.Same(y, MixedPrecision.ToChannelsLast(y)); // already in that order
        var v = torch.randn(3, 4);
        Assert.Same(v, MixedPrecision.ToChannelsLast(v)); // only 4-D tensors have a channel layout
    }

    [Fact]
    public void TheUNetsComputeTheSameInEitherLayoutAndReturnContiguousNchw()
    {
        using var scope = torch.NewDisposeScope();
        NativeRuntime.Configure();
        foreach (var (net, conditional, x, t, labels) in SmallUNets.WithInputs(4))
        {
            Tensor nchw, nhwc;
            using (ConvolutionLayout.Use(false)) nchw = conditional.Forward(x, t, labels);
            using (ConvolutionLayout.Use(true)) nhwc = conditional.Forward(x, t, labels);
            Assert.True(nhwc.is_contiguous());
            // the same sums in another order: float32 rounding only
            double error = (nhwc - nchw).norm().item<float>() / nchw.norm().item<float>();
            Assert.True(error < 1e-5, $"{net.GetName()}: relative difference {error}");
        }
    }
}
