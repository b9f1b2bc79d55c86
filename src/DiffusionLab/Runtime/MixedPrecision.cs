using TorchSharp.Modules;

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
        _ => throw new DiffusionLabException($"unknown `precision` '{precision}' (choose from {string.Join(", ", Names)})"),
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
    /// gives a reason, which <paramref name="notice"/> receives as one line ("bf16 declined: …"; the caller names its own
    /// setting in front). Throws on an unknown name.
    /// </summary>
    public static string Resolve(string requested, Action<string>? notice = null)
    {
        if (Parse(requested) is null) return requested;
        if (BFloat16Unavailable() is not string why) return requested;
        notice?.Invoke($"{requested} declined: {why}; running fp32 instead (DIFFLAB_BF16=1 forces bf16)");
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
            throw new DiffusionLabException($"`precision` {precision} is not supported by {network.GetName()} (the U-Nets support it); use fp32");
        return Enter(precision);
    }

    /// <summary>
    /// Runs <paramref name="module"/> on <paramref name="x"/> under the active precision and the process's convolution
    /// layout: a Sequential runs its children one by one through this method; Conv2d, ConvTranspose2d and Linear compute
    /// in the lowered type; with <see cref="ConvolutionLayout.ChannelsLast"/> the convolutions take channels-last (NHWC)
    /// operands, so oneDNN computes on them directly and its output stays channels-last through the normalisations,
    /// activations, sums and concatenations that follow, instead of reordering every activation from NCHW to its blocked
    /// layout and back (the reorders took more time than any convolution pass in a profile of a training step on an Intel
    /// family 6 model 207 CPU; docs/PERFORMANCE.md). The weights keep their NCHW parameters: in float32 the module runs
    /// on the channels-last input (ATen picks the layout from it), in bf16 the cast copy of the weight is made channels-last
    /// too (differentiable, small). Any other module runs as it is on whatever it receives. With neither, this is
    /// <c>module.call(x)</c>.
    /// </summary>
    public static Tensor Call(nn.Module<Tensor, Tensor> module, Tensor x)
    {
        bool nhwc = ConvolutionLayout.ChannelsLast;
        ScalarType? lowered = _lowered;
        if (lowered is null && !nhwc && module is not Sequential && !IsNarrow(module)) return module.call(x);
        // Every cast, layout copy and intermediate made here is disposed as soon as it is used: the caller's dispose scope
        // would otherwise keep all of them alive to the end of the forward pass (autograd keeps its own references to
        // what the backward pass needs, so this is safe in training too). Without it, sampling 100 MNIST images with
        // channels-last convolutions peaked at 2.5 GB instead of 1.2 GB.
        var temporaries = new List<Tensor>();
        Tensor Temporary(Tensor made, Tensor from)
        {
            if (!ReferenceEquals(made, from)) temporaries.Add(made);
            return made;
        }
        Tensor Cast(Tensor t) => lowered is ScalarType type ? Temporary(t.to_type(type), t) : t;
        Tensor Layout(Tensor t) => nhwc ? Temporary(ToChannelsLast(t), t) : t;
        try
        {
            switch (module)
            {
                case Sequential seq:
                    var current = x;
                    foreach (var child in seq.children())
                    {
                        var next = Call(child as nn.Module<Tensor, Tensor> ?? throw new InvalidOperationException($"{child.GetName()} is not a tensor-to-tensor module"), current);
                        if (!ReferenceEquals(current, x) && !ReferenceEquals(next, current)) current.Dispose();
                        current = next;
                    }
                    return current;
                case Conv2d c when IsNarrow(c):
                    return NarrowConvolution(c.weight!, c.bias, Layout(Cast(x)), Cast, Layout, transposed: false,
                        (xp, wp, bp) => nn.functional.conv2d(xp, wp, bp, strides: c.stride, padding: c.padding, dilation: c.dilation));
                case ConvTranspose2d c when IsNarrow(c):
                    return NarrowConvolution(c.weight!, c.bias, Layout(Cast(x)), Cast, Layout, transposed: true,
                        (xp, wp, bp) => nn.functional.conv_transpose2d(xp, wp, bp, strides: c.stride, padding: c.padding,
                            output_padding: c.output_padding, dilation: c.dilation));
                case Conv2d or ConvTranspose2d when lowered is null:
                    return module.call(Layout(x)); // float32: ATen takes the layout from the input (and the module's hooks run)
                case Conv2d c when c.padding_type is null && c.padding_mode == PaddingModes.Zeros:
                    return nn.functional.conv2d(Layout(Cast(x)), Layout(Cast(c.weight!)), c.bias is null ? null : Cast(c.bias),
                        strides: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups);
                case ConvTranspose2d c when c.padding_type is null && c.padding_mode == PaddingModes.Zeros:
                    return nn.functional.conv_transpose2d(Layout(Cast(x)), Layout(Cast(c.weight!)), c.bias is null ? null : Cast(c.bias),
                        strides: c.stride, padding: c.padding, output_padding: c.output_padding, dilation: c.dilation, groups: c.groups);
                case Linear l when lowered is not null:
                    return nn.functional.linear(Cast(x), Cast(l.weight!), l.bias is null ? null : Cast(l.bias));
                default:
                    return module.call(x);
            }
        }
        finally
        {
            foreach (var t in temporaries) t.Dispose();
        }
    }

    /// <summary>Channel counts are padded to a multiple of this (see <see cref="NarrowConvolution"/>): AVX-512's block of
    /// 16 float32 lanes, the channel block oneDNN's kernels work in.</summary>
    public const int ChannelBlock = 16;

    /// <summary>Whether a convolution has an input or output channel count that is not a multiple of
    /// <see cref="ChannelBlock"/> (an image's 1 or 3 channels), zero padding and one group: the ones
    /// <see cref="NarrowConvolution"/> pads.</summary>
    public static bool IsNarrow(nn.Module module) => module switch
    {
        Conv2d c => c.groups == 1 && c.padding_type is null && c.padding_mode == PaddingModes.Zeros && Narrow(c.weight!),
        ConvTranspose2d c => c.groups == 1 && c.padding_type is null && c.padding_mode == PaddingModes.Zeros && Narrow(c.weight!),
        _ => false,
    };

    [ThreadStatic] private static bool _unpadded;

    /// <summary>
    /// Until disposed, this thread runs narrow convolutions as their modules (unpadded, with the modules' hooks) — for
    /// counting what each layer computes through its hooks. Their gradients may be wrong where oneDNN is (AMD family 26):
    /// forward passes only.
    /// </summary>
    public static IDisposable Unpadded()
    {
        bool previous = _unpadded;
        _unpadded = true;
        return new Restore(() => _unpadded = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private Action? _restore = restore;
        public void Dispose() { _restore?.Invoke(); _restore = null; }
    }

    private static bool Narrow(Tensor weight) => !_unpadded && (weight.shape[0] % ChannelBlock != 0 || weight.shape[1] % ChannelBlock != 0);

    private static long PadTo(long n) => (n + ChannelBlock - 1) / ChannelBlock * ChannelBlock - n;

    /// <summary>
    /// A convolution whose channel counts are not multiples of <see cref="ChannelBlock"/>, computed as one whose are: the
    /// input gets zero channels, the weight zero rows and columns, and the output is cut back to its real channels — the
    /// same numbers, since every added term is an exact zero, and the same gradients for the real weights and inputs. Why:
    /// on an AMD family 26 CPU (Zen 5) libtorch 2.10's oneDNN computed such convolutions wrong — in float32 the input
    /// gradient of a 32 → 3 or 32 → 1 convolution (a U-Net's output layer) was off by 20–60 % of its scale even on zeroed
    /// memory and NaN on NaN-filled memory; in bfloat16 the forward pass of 32 → 3 too — while every count that is a
    /// multiple of 16 was exact (`difflab doctor` shows both). The blocked layouts oneDNN computes in round channels up to
    /// its block, and the padding lanes it left unwritten are what it then read. The cost is the wider image layers only:
    /// under 1 % of a U-Net's work. <paramref name="transposed"/>: the weight is [in, out, k, k] instead of [out, in, k, k].
    /// </summary>
    public static Tensor NarrowConvolution(Tensor weight, Tensor? bias, Tensor x, Func<Tensor, Tensor> cast, Func<Tensor, Tensor> layout,
        bool transposed, Func<Tensor, Tensor, Tensor?, Tensor> convolution)
    {
        long outDim = transposed ? 1 : 0, inDim = 1 - outDim;
        long cin = weight.shape[inDim], cout = weight.shape[outDim];
        long padIn = PadTo(cin), padOut = PadTo(cout);
        // functional pad lists the last dimension first: (W, H, dim 1, dim 0)
        var weightPads = new long[] { 0, 0, 0, 0, 0, transposed ? padOut : padIn, 0, transposed ? padIn : padOut };
        using var paddedWeight = nn.functional.pad(weight, weightPads);
        using var paddedBias = bias is null || padOut == 0 ? null : nn.functional.pad(bias, new long[] { 0, padOut });
        using var paddedInput = padIn == 0 ? null : nn.functional.pad(x, new long[] { 0, 0, 0, 0, 0, padIn });
        using var castWeight = cast(paddedWeight);
        using var laidWeight = layout(castWeight);
        var castBias = bias is null ? null : cast(paddedBias ?? bias);
        try
        {
            var input = paddedInput is null ? x : layout(paddedInput);
            var y = convolution(input, laidWeight, castBias);
            if (!ReferenceEquals(input, x) && !ReferenceEquals(input, paddedInput)) input.Dispose();
            if (padOut == 0) return y;
            using (y) return y.narrow(1, 0, cout);
        }
        finally
        {
            if (castBias is not null && !ReferenceEquals(castBias, bias) && !ReferenceEquals(castBias, paddedBias)) castBias.Dispose();
        }
    }

    /// <summary>
    /// The same 4-D tensor in channels-last (NHWC) memory order, as PyTorch's <c>contiguous(memory_format=torch.channels_last)</c>
    /// gives it — TorchSharp 0.107 has no memory-format argument, but a permuted copy permuted back has exactly those
    /// strides, and ATen recognises the layout by its strides. A tensor already in that order, or not 4-D, is returned as is.
    /// </summary>
    public static Tensor ToChannelsLast(Tensor t)
    {
        if (t.dim() != 4 || IsChannelsLast(t)) return t;
        using var nhwc = t.permute(0, 2, 3, 1); // a view: disposed here so that it does not keep t's storage alive
        using var copy = nhwc.contiguous();
        return copy.permute(0, 3, 1, 2);
    }

    /// <summary>Whether a 4-D tensor's strides are those of channels-last order (C fastest, then W, H, N).</summary>
    public static bool IsChannelsLast(Tensor t)
    {
        if (t.dim() != 4) return false;
        long c = t.shape[1], h = t.shape[2], w = t.shape[3];
        return t.stride(1) == 1 && (w == 1 || t.stride(3) == c) && (h == 1 || t.stride(2) == c * w);
    }

    /// <summary>A network's output in float32 and contiguous NCHW order (what the loss, the samplers and views expect),
    /// whatever the layers computed in.</summary>
    public static Tensor Output(Tensor y)
    {
        if (y.dtype != ScalarType.Float32) y = y.to_type(ScalarType.Float32);
        return y.is_contiguous() ? y : y.contiguous();
    }

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
