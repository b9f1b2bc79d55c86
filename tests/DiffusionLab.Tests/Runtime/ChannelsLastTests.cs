using DiffusionLab.Models;
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
        torch.manual_seed(4);
        var cs = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 16, 16, 4));
        var unet = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 8, Ch = 16, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0, NumClasses = 4 });
        foreach (var (net, c, size) in new (nn.Module<Tensor, Tensor, Tensor>, long, long)[] { (cs, 1, 16), (unet, 3, 8) })
        {
            net.eval();
            var x = torch.randn(4, c, size, size);
            var t = torch.tensor(new[] { 0.1f, 0.4f, 0.7f, 0.95f });
            var labels = torch.tensor(new long[] { 0, 1, 3, -1 });
            var conditional = (IClassConditionalNetwork)net;
            Tensor nchw, nhwc;
            using (NativeRuntime.OverrideChannelsLast(false)) nchw = conditional.Forward(x, t, labels);
            using (NativeRuntime.OverrideChannelsLast(true)) nhwc = conditional.Forward(x, t, labels);
            Assert.True(nhwc.is_contiguous());
            // the same sums in another order: float32 rounding only
            double error = (nhwc - nchw).norm().item<float>() / nchw.norm().item<float>();
            Assert.True(error < 1e-5, $"{net.GetName()}: relative difference {error}");
        }
    }
}
