using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Build;

public class TorchLoadTests
{
    [Fact]
    public void TorchLoadsAndMultipliesMatrices()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void ConvolutionMatchesAHandComputedValue()
    {
        // A 3×3 box filter over a 4×4 ramp, no padding: each output is the sum of a 3×3 window.
        using var x = torch.arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        using var w = torch.ones(1, 1, 3, 3);
        using var y = torch.nn.functional.conv2d(x, w);
        Assert.Equal(new float[] { 45, 54, 81, 90 }, y.flatten().data<float>().ToArray());
    }
}
