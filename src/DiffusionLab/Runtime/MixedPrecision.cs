using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionLab.Runtime;

/// <summary>
/// bfloat16 mixed precision, the policy of PyTorch's <c>torch.autocast("cpu", dtype=torch.bfloat16)</c> (Micikevicius et
/// al. 2018 for the idea; Kalamkar et al. 2019 for bfloat16 training): inside <see cref="Enter(string)"/>, convolutions,
/// transposed convolutions and linear layers cast their input and weights to bfloat16 and compute in it; normalisation
/// layers take the bfloat16 activations with their float32 affine parameters and statistics; the weights, their gradients,
/// the optimizer and the loss stay float32 (the casts are differentiable, so gradients arrive in float32). On CPUs with
/// AVX-512 BF16 or AMX, oneDNN runs bfloat16 convolutions about twice as fast as float32 ones (docs/PERFORMANCE.md).
/// TorchSharp 0.107 has no autocast, so a network opts in by running its layers through <see cref="Call"/> and returning
/// float32 (<see cref="IMixedPrecisionNetwork"/>). The setting is per thread, like autocast's.
/// </summary>
public static class MixedPrecision
{
    /// <summary>The precisions a run can choose: "fp32" (everything float32) and "bf16" (the autocast policy above).</summary>
    public static readonly IReadOnlyList<string> Names = ["fp32", "bf16"];

    [ThreadStatic] private static ScalarType? _lowered;

    /// <summary>The type convolutions and linear layers compute in on this thread, or null for float32 throughout.</summary>
    public static ScalarType? Active => _lowered;

    /// <summary>Checks a precision name and returns its compute type (null for fp32).</summary>
    public static ScalarType? Parse(string precision) => precision switch
    {
        "fp32" => null,
        "bf16" => ScalarType.BFloat16,
        _ => throw new DiffusionLabException($"unknown precision '{precision}' (choose from {string.Join(", ", Names)})"),
    };

    /// <summary>
    /// Why bf16 would run slower than fp32 here, or null where it runs on bfloat16 arithmetic. bfloat16 pays only through
    /// oneDNN's kernels on a CPU with bfloat16 instructions: with oneDNN off, ATen's reference kernels ran the U-Net 20–30×
    /// slower than fp32, and oneDNN's emulation on a CPU without AVX-512 BF16 or AMX ran it slower than fp32 too; where
    /// both are in place, the speed-up is measured once per machine (<see cref="BFloat16Speed"/>), since bfloat16
    /// instructions alone do not make it faster (docs/PERFORMANCE.md, "When bf16 is declined"). DIFFLAB_BF16=1 lifts the
    /// check, to measure exactly those paths; DIFFLAB_BF16=0 declines bf16.
    /// </summary>
    public static string? BFloat16Unavailable()
    {
        switch (Environment.GetEnvironmentVariable("DIFFLAB_BF16"))
        {
            case "1": return null;
            case "0": return "DIFFLAB_BF16=0";
        }
        NativeRuntime.Configure();
        if (!NativeRuntime.MkldnnEnabled)
            return $"oneDNN is off ({NativeRuntime.MkldnnReason}), so bfloat16 would run on ATen's reference kernels";
        var cpu = CpuInfo.Host;
        if (!cpu.HasBFloat16Arithmetic)
            return $"this CPU ({cpu.Describe()}) has no bfloat16 arithmetic (AVX-512 BF16 or AMX), so oneDNN would emulate it";
        if (OneDnnIsaCap() is string cap)
            return $"ONEDNN_MAX_CPU_ISA={cap} keeps oneDNN below AVX-512 BF16, so it would emulate bfloat16";
        if (!NativeRuntime.OneDnnBFloat16Checked && NativeRuntime.MkldnnReason.StartsWith("self-check", StringComparison.Ordinal))
            return "oneDNN's bfloat16 convolutions did not match float32 in the start-up self-check";
        var (speedup, source) = BFloat16Speed.OnThisMachine();
        if (speedup < BFloat16Speed.Required)
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"on this CPU ({cpu.Describe()}) a U-Net block ran at {speedup:F2}× fp32's speed in bf16 ({source}), below the {BFloat16Speed.Required}× that pays");
        return null;
    }

    /// <summary>
    /// The precision a run uses for <paramref name="requested"/>: the same, or "fp32" where <see cref="BFloat16Unavailable"/>
    /// gives a reason, which <paramref name="notice"/> receives as one line. Throws on an unknown name.
    /// </summary>
    public static string Resolve(string requested, Action<string>? notice = null)
    {
        if (Parse(requested) is null) return requested;
        if (BFloat16Unavailable() is not string why) return requested;
        notice?.Invoke($"--precision {requested} declined: {why}; running fp32 instead (DIFFLAB_BF16=1 forces bf16)");
        return "fp32";
    }

    // oneDNN's ISA names from below AVX-512 BF16 (ONEDNN_MAX_CPU_ISA, also read as DNNL_MAX_CPU_ISA).
    private static readonly string[] IsasWithoutBFloat16 = ["SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"];

    private static string? OneDnnIsaCap()
    {
        var cap = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
        return cap is not null && IsasWithoutBFloat16.Contains(cap.Trim().ToUpperInvariant()) ? cap : null;
    }

    /// <summary>Enters the named precision on this thread until the returned scope is disposed (scopes nest).</summary>
    public static IDisposable Enter(string precision) => new Scope(Parse(precision));

    /// <summary>
    /// Enters <paramref name="precision"/> for <paramref name="network"/>, which must follow the policy (a network that does
    /// not would silently compute in float32 while the run reports bf16).
    /// </summary>
    public static IDisposable Enter(string precision, nn.Module network)
    {
        if (Parse(precision) is not null && network is not IMixedPrecisionNetwork)
            throw new DiffusionLabException($"--precision {precision} is not supported by {network.GetName()} (the U-Nets support it); use fp32");
        return Enter(precision);
    }

    /// <summary>
    /// Runs <paramref name="module"/> on <paramref name="x"/> under the active precision: a Sequential runs its children
    /// one by one through this method; Conv2d, ConvTranspose2d and Linear compute in the lowered type; any other module
    /// runs as it is on whatever it receives. Without an active precision this is <c>module.call(x)</c>.
    /// </summary>
    public static Tensor Call(nn.Module<Tensor, Tensor> module, Tensor x)
    {
        if (_lowered is not ScalarType type) return module.call(x);
        switch (module)
        {
            case Sequential seq:
                foreach (var child in seq.children())
                    x = Call(child as nn.Module<Tensor, Tensor> ?? throw new InvalidOperationException($"{child.GetName()} is not a tensor-to-tensor module"), x);
                return x;
            case Conv2d c when c.padding_type is null && c.padding_mode == PaddingModes.Zeros:
                return nn.functional.conv2d(x.to_type(type), c.weight!.to_type(type), c.bias?.to_type(type),
                    strides: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups);
            case ConvTranspose2d c when c.padding_type is null && c.padding_mode == PaddingModes.Zeros:
                return nn.functional.conv_transpose2d(x.to_type(type), c.weight!.to_type(type), c.bias?.to_type(type),
                    strides: c.stride, padding: c.padding, output_padding: c.output_padding, dilation: c.dilation, groups: c.groups);
            case Linear l:
                return nn.functional.linear(x.to_type(type), l.weight!.to_type(type), l.bias?.to_type(type));
            default:
                return module.call(x);
        }
    }

    /// <summary>A network's output in float32 (what the loss and the samplers expect), whatever the layers computed in.</summary>
    public static Tensor Output(Tensor y) => y.dtype == ScalarType.Float32 ? y : y.to_type(ScalarType.Float32);

    private sealed class Scope : IDisposable
    {
        private readonly ScalarType? _previous = _lowered;
        private bool _disposed;

        public Scope(ScalarType? type) => _lowered = type;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _lowered = _previous;
        }
    }
}

/// <summary>A network that runs its layers through <see cref="MixedPrecision.Call"/> and returns float32, so it can train and sample in bf16.</summary>
public interface IMixedPrecisionNetwork;
