using DiffusionLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

/// <summary>
/// The minimal reproducer of libtorch 2.10's oneDNN defect on AMD family 26 (and an earlier CI VM): the input gradient of a
/// 16 → 1-channel 3×3 convolution, and a stride-2 transposed convolution — both oneDNN's convolution backward-data — were
/// NaN or wrong there, depending on what freed memory held. Here every new buffer is filled with NaN (c10's junk fill), so
/// a kernel that reads memory it never wrote fails every time, not by chance. Under whatever <see cref="NativeRuntime"/>
/// chose for this CPU (oneDNN by its self-check, or ATen's kernels) both must equal their closed forms: ∂L/∂x =
/// conv_transpose2d(∂L/∂y, W), and the transposed convolution as the adjoint of conv2d (⟨T(u), v⟩ = ⟨u, conv2d(v)⟩).
/// The 16 → 1 convolution runs as the networks run it (<see cref="MixedPrecision.Call"/>, its output padded to a whole
/// channel block): on AMD family 26 (Zen 5) oneDNN's unpadded 16 → 1 input gradient is wrong even on zeroed memory.
/// Run on: Intel family 6 model 207 (AVX-512 BF16, FP16), with oneDNN on, and with DIFFLAB_MKLDNN=0 and
/// ONEDNN_MAX_CPU_ISA=AVX2 / AVX512_CORE (the kernels the other CPUs take); AMD family 25 in earlier sessions.
/// </summary>
public class ConvGradientTests
{
    [Fact]
    public void ConvInputGradientAndTransposedConvolutionMatchTheirClosedFormsOnNaNFilledMemory()
    {
        NativeRuntime.Configure();
        var before = NativeRuntime.Fill;
        if (before == AllocationFill.None) Assert.True(NativeRuntime.SetAllocationFill(AllocationFill.Junk));
        try
        {
            torch.manual_seed(0);
            var conv = nn.Conv2d(16, 1, 3, padding: 1);
            for (int rep = 0; rep < 5; rep++)
            {
                using var scope = torch.NewDisposeScope();
                var x = torch.randn([32, 16, 28, 28], requires_grad: true);
                var y = MixedPrecision.Call(conv, x); // as the networks run it: padded to whole channel blocks
                var gradOut = torch.randn(y.shape);
                y.backward([gradOut]);
                var u = torch.randn([8, 32, 14, 14]);
                var v = torch.randn([8, 16, 28, 28]);
                var wt = torch.randn([32, 16, 4, 4]) * 0.1;
                using var _ = torch.no_grad();
                // the closed form on ATen's kernels (a 1 → 16 transposed convolution is itself a narrow backward-data pass)
                bool wasEnabled = NativeRuntime.MkldnnSwitch();
                NativeRuntime.SetMkldnn(false);
                var expected = nn.functional.conv_transpose2d(gradOut, conv.weight!, padding: [1, 1]);
                NativeRuntime.SetMkldnn(wasEnabled);
                Assert.False(x.grad!.isnan().any().item<bool>(), $"NaN in the input gradient at repetition {rep} ({NativeRuntime.Describe()})");
                Assert.True((x.grad - expected).abs().max().item<float>() < 1e-4, $"wrong input gradient at repetition {rep}: max error {(x.grad - expected).abs().max().item<float>()} ({NativeRuntime.Describe()})");
                // the adjoint identity checks the transposed convolution against the forward one, each summed in float64
                var transposed = nn.functional.conv_transpose2d(u, wt, strides: [2, 2], padding: [1, 1]);
                Assert.True(transposed.isfinite().all().item<bool>(), $"non-finite transposed convolution at repetition {rep} ({NativeRuntime.Describe()})");
                double left = (transposed.to_type(ScalarType.Float64) * v.to_type(ScalarType.Float64)).sum().item<double>();
                double right = (u.to_type(ScalarType.Float64) * nn.functional.conv2d(v, wt, strides: [2, 2], padding: [1, 1]).to_type(ScalarType.Float64)).sum().item<double>();
                double scale = (transposed.abs().to_type(ScalarType.Float64) * v.abs().to_type(ScalarType.Float64)).sum().item<double>();
                Assert.True(Math.Abs(left - right) <= 1e-5 * scale, $"transposed convolution is not conv2d's adjoint at repetition {rep}: {left} vs {right} ({NativeRuntime.Describe()})");
                conv.zero_grad();
            }
        }
        finally
        {
            NativeRuntime.SetAllocationFill(before);
        }
    }
}
