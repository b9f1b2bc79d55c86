using DiffusionLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

/// <summary>
/// Guards the allocator settings: libtorch 2.10's CPU conv2d backward reads part of its input-gradient buffer before
/// writing it, so with recycled (non-zero) heap memory the gradient is garbage. Under <see cref="NativeRuntime"/>'s
/// settings the gradient must equal the closed form ∂L/∂x = conv_transpose2d(∂L/∂y, W) even when the heap was just
/// filled with NaN.
/// </summary>
public class ConvGradientTests
{
    [Fact]
    public void ConvInputGradientMatchesTransposedConvolutionWithADirtyHeap()
    {
        NativeRuntime.Configure();
        torch.manual_seed(0);
        var conv = nn.Conv2d(16, 1, 3, padding: 1);
        for (int rep = 0; rep < 20; rep++)
        {
            using var scope = torch.NewDisposeScope();
            for (int k = 0; k < 4; k++) torch.full(new long[] { 1 << 20 }, float.NaN).Dispose(); // leave NaN in freed heap memory
            var x = torch.randn([32, 16, 28, 28], requires_grad: true);
            var y = conv.call(x);
            var gradOut = torch.randn(y.shape);
            y.backward([gradOut]);
            using var _ = torch.no_grad();
            var expected = nn.functional.conv_transpose2d(gradOut, conv.weight!, padding: [1, 1]);
            Assert.False(x.grad!.isnan().any().item<bool>(), $"NaN in the input gradient at repetition {rep} ({NativeRuntime.Describe()})");
            Assert.True((x.grad - expected).abs().max().item<float>() < 1e-4, $"wrong input gradient at repetition {rep}: max error {(x.grad - expected).abs().max().item<float>()}, max |grad| {expected.abs().max().item<float>()} ({NativeRuntime.Describe()})");
            conv.zero_grad();
        }
    }
}
