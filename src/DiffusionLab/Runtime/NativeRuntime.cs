using System.Runtime.InteropServices;

namespace DiffusionLab.Runtime;

/// <summary>
/// Process-wide native settings applied once at start-up: allocator, oneDNN, threads. libtorch allocates and frees large tensor buffers on every
/// op; glibc's defaults serve buffers ≥ 128 KiB with fresh mmap pages and trim the heap eagerly, so every op pays
/// page faults on new memory (about 2× slower training on the CI VM). Keeping freed memory in the heap
/// (M_MMAP_MAX = 0, a huge M_TRIM_THRESHOLD — the same as GLIBC_TUNABLES=glibc.malloc.mmap_max=0:
/// glibc.malloc.trim_threshold=4294967295) removes that cost; peak memory is unchanged because the heap is reused.
/// </summary>
public static class NativeRuntime
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;
    private static readonly object Gate = new();
    private static bool _applied;

    /// <summary>Whether the glibc allocator settings are in effect in this process.</summary>
    public static bool AllocatorTuned { get; private set; }

    /// <summary>Whether libtorch's oneDNN kernels are in use (off by default; see <see cref="Configure"/>).</summary>
    public static bool MkldnnEnabled { get; private set; } = true;

    /// <summary>
    /// The convolution layout of the U-Nets (<see cref="MixedPrecision.Call"/>) where no workload has chosen one with
    /// <see cref="ConvolutionLayout.Use"/>: channels-last (NHWC) where oneDNN is on, since its convolutions work in NHWC or
    /// blocked layouts; NCHW with ATen's kernels, whose reference convolutions are NCHW. DIFFLAB_CHANNELS_LAST=1 or 0 forces it.
    /// Training, sampling and editing measure the layout per workload instead (<see cref="ConvolutionLayout.Choose"/>).
    /// </summary>
    public static bool ChannelsLast { get; private set; }

    /// <summary>libtorch's intra-op thread count after <see cref="Configure"/>.</summary>
    public static int Threads => torch.get_num_threads();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr AtGlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void AtSetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool AtUserEnabledMkldnn(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void AtSetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>Turns libtorch's oneDNN (MKL-DNN) kernels on or off (torch.backends.mkldnn.enabled); returns the new state.</summary>
    public static bool SetMkldnn(bool enabled)
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        var ctx = AtGlobalContext();
        AtSetUserEnabledMkldnn(ctx, enabled);
        // Without oneDNN, ATen would try NNPACK for some convolutions; it cannot start on CPUs it does not know (this
        // VM's EPYC) and warns on every call before falling back, so it is switched off too.
        AtSetUserEnabledNnpack(ctx, false);
        return AtUserEnabledMkldnn(ctx);
    }

    /// <summary>libtorch's oneDNN switch as it is now (torch.backends.mkldnn.enabled).</summary>
    internal static bool MkldnnSwitch()
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        return AtUserEnabledMkldnn(AtGlobalContext());
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(UIntPtr pad);

    /// <summary>
    /// Hands the free pages inside glibc's heap back to the OS (malloc_trim(0), which also releases free chunks in the
    /// middle of the heap). With the tuned allocator nothing is returned on free, so a phase with a different
    /// allocation pattern (a checkpoint, a sample grid) leaves holes that the next phase's buffers do not fit, and the
    /// resident peak creeps up epoch after epoch; releasing the holes between epochs keeps it flat. A no-op unless
    /// the tuned allocator is in effect.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!AllocatorTuned) return;
        try { MallocTrim(UIntPtr.Zero); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>Why oneDNN is on or off: the self-check's verdict or "DIFFLAB_MKLDNN=…".</summary>
    public static string MkldnnReason { get; private set; } = "not configured";

    /// <summary>What the CPU allocator writes into every new buffer in this process (see <see cref="SetAllocationFill"/>).</summary>
    public static AllocationFill Fill { get; private set; } = AllocationFill.None;

    /// <summary>Whether oneDNN's bfloat16 convolutions passed the start-up self-check (false when oneDNN is off, forced on
    /// without a check, or the CPU has no bfloat16 arithmetic and so was not checked).</summary>
    public static bool OneDnnBFloat16Checked { get; private set; }

    /// <summary>
    /// Applies the allocator settings (unless DIFFLAB_MALLOC=default), decides oneDNN (DIFFLAB_MKLDNN=1 or 0 forces it;
    /// otherwise <see cref="CheckOneDnn"/> does) and sets libtorch's thread count (DIFFLAB_THREADS, or the number of
    /// cores) — once per process; the library's entry points call it, so later calls without <paramref name="threads"/>
    /// change nothing. An explicit <paramref name="threads"/> always sets the thread count.
    /// </summary>
    public static void Configure(int? threads = null)
    {
        lock (Gate)
        {
            if (!_applied)
            {
                _applied = true;
                if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("DIFFLAB_MALLOC") != "default")
                {
                    try
                    {
                        AllocatorTuned = Mallopt(M_MMAP_MAX, 0) == 1 & Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
                    }
                    catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                    {
                        AllocatorTuned = false; // not glibc (musl, …): keep the defaults
                    }
                }
                threads ??= int.TryParse(Environment.GetEnvironmentVariable("DIFFLAB_THREADS"), out var t) && t > 0 ? t : Environment.ProcessorCount;
                torch.set_num_threads(Math.Max(1, threads.Value));
                switch (Environment.GetEnvironmentVariable("DIFFLAB_MKLDNN"))
                {
                    case "1": MkldnnEnabled = SetMkldnn(true); MkldnnReason = "DIFFLAB_MKLDNN=1"; break;
                    case "0": MkldnnEnabled = SetMkldnn(false); MkldnnReason = "DIFFLAB_MKLDNN=0"; break;
                    default:
                        var check = CheckOneDnn();
                        MkldnnEnabled = SetMkldnn(check.Verdict != OneDnnVerdict.Wrong);
                        if (check.Verdict == OneDnnVerdict.ExactOnZeroedMemory) SetAllocationFill(AllocationFill.Zero);
                        OneDnnBFloat16Checked = MkldnnEnabled && check.BFloat16Exact;
                        MkldnnReason = check.Verdict switch
                        {
                            OneDnnVerdict.Exact => "self-check passed on NaN-filled memory",
                            OneDnnVerdict.ExactOnZeroedMemory => "self-check passed only on zeroed memory: allocations zero-filled",
                            _ => "self-check failed: ATen kernels",
                        };
                        break;
                }
                ChannelsLast = Environment.GetEnvironmentVariable("DIFFLAB_CHANNELS_LAST") switch
                {
                    "1" => true,
                    "0" => false,
                    _ => MkldnnEnabled,
                };
            }
            else if (threads is int n) torch.set_num_threads(Math.Max(1, n));
        }
    }

    /// <summary>
    /// Sets what c10's CPU allocator writes into every buffer it hands out — libtorch's own switches
    /// FLAGS_caffe2_cpu_allocator_do_junk_fill (a NaN pattern) and …_do_zero_fill (c10/core/impl/alloc_cpu.cpp). ATen's
    /// ideep layer registers that allocator for oneDNN, so the fill reaches tensors, oneDNN's reorder buffers and its
    /// scratchpads alike: with <see cref="AllocationFill.Junk"/> a kernel that reads memory it never wrote reads NaN every
    /// time, not only when the heap happened to hold garbage. Returns false where libc10's flags cannot be found.
    /// </summary>
    public static bool SetAllocationFill(AllocationFill fill)
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "c10.dll" : "libc10.so", out var library)) return false;
        if (!NativeLibrary.TryGetExport(library, "FLAGS_caffe2_cpu_allocator_do_junk_fill", out var junk)
            || !NativeLibrary.TryGetExport(library, "FLAGS_caffe2_cpu_allocator_do_zero_fill", out var zero)) return false;
        Marshal.WriteByte(junk, 0); // c10 refuses to allocate with both set
        Marshal.WriteByte(zero, (byte)(fill == AllocationFill.Zero ? 1 : 0));
        Marshal.WriteByte(junk, (byte)(fill == AllocationFill.Junk ? 1 : 0));
        Fill = fill;
        return true;
    }

    /// <summary>
    /// Decides whether libtorch 2.10's oneDNN computes exactly on this CPU, the same way in every process. On an AMD
    /// family 26 VM (and an earlier CI VM) oneDNN's convolution backward-data and transposed convolution — one primitive:
    /// a transposed convolution is a backward-data pass — returned NaN or wrong input gradients that depended on what
    /// freed heap memory held: they read memory they had not written. So the check compares oneDNN with ATen's kernels on
    /// those operations (and the forward convolution and weight gradient beside them) with every new buffer filled with
    /// NaN (<see cref="SetAllocationFill"/>), which makes such a read show every time; if that fails it runs again on
    /// zero-filled buffers, where an accumulate-into-the-output or padded-channel read is harmless and deterministic. On
    /// a CPU with bfloat16 arithmetic it also checks the same operations in bfloat16 (one rounding of the float32 result).
    /// About 0.5 s on 2 cores. Leaves oneDNN's switch and the fill as they were.
    /// </summary>
    public static OneDnnCheck CheckOneDnn()
    {
        bool Matches(ScalarType type, AllocationFill fill) => CompareOneDnnWithAten(type, fill).All(c => c.Passed);
        if (!SetAllocationFill(Fill)) // libc10's flags not found: the heap as it is (NaN left in freed memory) is all there is
            return new OneDnnCheck(Matches(ScalarType.Float32, AllocationFill.None) ? OneDnnVerdict.Exact : OneDnnVerdict.Wrong, false);
        var verdict = Matches(ScalarType.Float32, AllocationFill.Junk) ? OneDnnVerdict.Exact
            : Matches(ScalarType.Float32, AllocationFill.Zero) ? OneDnnVerdict.ExactOnZeroedMemory
            : OneDnnVerdict.Wrong;
        var bf16Fill = verdict == OneDnnVerdict.ExactOnZeroedMemory ? AllocationFill.Zero : AllocationFill.Junk;
        bool bf16 = verdict != OneDnnVerdict.Wrong && CpuInfo.Host.HasBFloat16Arithmetic && Matches(ScalarType.BFloat16, bf16Fill);
        return new OneDnnCheck(verdict, bf16);
    }

    /// <summary>
    /// oneDNN against ATen, three times, on: the input gradient of a 16 → 1-channel 3×3 convolution on [32, 16, 28, 28]
    /// and the output of a 32 → 3-channel one (an image's channels, which fail unpadded on AMD family 26, so both run
    /// padded to whole channel blocks, as the networks run them: <see cref="MixedPrecision.NarrowConvolution"/>; the
    /// first against the closed form conv_transpose2d(∂L/∂y, W)), the output and the input and weight
    /// gradients of a 32 → 32-channel one, and a stride-2 4×4 transposed convolution (the U-Net's upsampling), with every
    /// new buffer filled as <paramref name="fill"/> says. In bfloat16 the operands are bfloat16 and the reference is ATen's
    /// float32 result on the same (exactly representable) values, so oneDNN may differ by its one final rounding: relative
    /// error ≤ 2⁻⁸ per element. oneDNN runs each on NCHW operands and on channels-last ones, the layout the U-Nets use
    /// (<see cref="NativeRuntime.ChannelsLast"/>), which takes other kernels. Returns each operation's worst error over the
    /// repetitions (see <see cref="OneDnnComparison"/>).
    /// Leaves oneDNN's switch and the fill as they were.
    /// </summary>
    public static IReadOnlyList<OneDnnComparison> CompareOneDnnWithAten(ScalarType type, AllocationFill fill)
    {
        var before = Fill;
        bool wasEnabled = MkldnnSwitch();
        var worst = new Dictionary<string, double>();
        try
        {
            SetAllocationFill(fill);
            var generator = new Generator(20261123);
            double relative = type == ScalarType.BFloat16 ? Math.Pow(2, -8) : 0;
            for (int rep = 0; rep < 3; rep++)
            {
                using var scope = torch.NewDisposeScope();
                for (int k = 0; k < 4; k++) torch.full(new long[] { 1 << 20 }, float.NaN).Dispose(); // and freed heap memory holds NaN
                // values exactly representable in the type under test, so that both sides see the same operands
                Tensor R(double scale, params long[] shape) => (torch.randn(shape, generator: generator) * scale).to_type(type).to_type(ScalarType.Float32);
                var w1 = R(0.2, 1, 16, 3, 3);
                var x1 = R(1, 32, 16, 28, 28);
                var g1 = R(1, 32, 1, 28, 28);
                var w2 = R(0.1, 32, 32, 3, 3);
                var x2 = R(1, 8, 32, 14, 14);
                var g2 = R(1, 8, 32, 14, 14);
                var wt = R(0.1, 32, 16, 4, 4);
                var w3 = R(0.1, 3, 32, 3, 3);
                var u = R(1, 8, 32, 14, 14);
                // ATen, float32, NCHW
                SetMkldnn(false);
                var x2r = x2.requires_grad_(true);
                var w2r = w2.requires_grad_(true);
                var y2r = nn.functional.conv2d(x2r, w2r, padding: [1, 1]);
                y2r.backward([g2]);
                Tensor expected1, expectedT, expected3;
                using (torch.no_grad())
                {
                    expected1 = nn.functional.conv_transpose2d(g1, w1, padding: [1, 1]);
                    expectedT = nn.functional.conv_transpose2d(u, wt, strides: [2, 2], padding: [1, 1]);
                    expected3 = nn.functional.conv2d(x2.detach(), w3, padding: [1, 1]);
                }
                // oneDNN, in the type under test, on NCHW operands and on channels-last ones (the U-Nets' layout)
                SetMkldnn(true);
                foreach (bool nhwc in new[] { false, true })
                {
                    Tensor L(Tensor t) => nhwc ? MixedPrecision.ToChannelsLast(t) : t;
                    string layout = nhwc ? " (NHWC)" : "";
                    // the narrow convolutions (an image's channels) run padded to whole channel blocks, as the networks
                    // run them (MixedPrecision.NarrowConvolution): that is what must be exact
                    Tensor Narrow(Tensor x, Tensor w) => MixedPrecision.NarrowConvolution(w, null, x, t => t, L, transposed: false,
                        (xp, wp, bp) => nn.functional.conv2d(xp, wp, bp, padding: [1, 1]));
                    var x1d = L(x1.to_type(type)).detach().requires_grad_(true);
                    Narrow(x1d, L(w1.to_type(type))).backward([L(g1.to_type(type))]);
                    var narrowForward = Narrow(L(x2.detach().to_type(type)), L(w3.to_type(type)));
                    var x2d = L(x2.detach().to_type(type)).detach().requires_grad_(true);
                    var w2d = L(w2.detach().to_type(type)).detach().requires_grad_(true);
                    var y2 = nn.functional.conv2d(x2d, w2d, padding: [1, 1]);
                    y2.backward([L(g2.to_type(type))]);
                    using var noGrad = torch.no_grad();
                    var transposed = nn.functional.conv_transpose2d(L(u.to_type(type)), L(wt.to_type(type)), strides: [2, 2], padding: [1, 1]);
                    void Record(string operation, Tensor actual, Tensor expected)
                    {
                        double e = Error(actual, expected, relative);
                        operation += layout;
                        worst[operation] = Math.Max(worst.GetValueOrDefault(operation), double.IsNaN(e) ? double.PositiveInfinity : e);
                    }
                    Record("conv 16→1 backward-data, padded", x1d.grad!, expected1);
                    Record("conv 32→3 forward, padded", narrowForward, expected3);
                    Record("conv 32→32 forward", y2, y2r.detach());
                    Record("conv 32→32 backward-data", x2d.grad!, x2r.grad!);
                    Record("conv 32→32 backward-weights", w2d.grad!, w2r.grad!);
                    Record("transposed conv 32→16 4×4 stride 2", transposed, expectedT);
                }
            }
        }
        finally
        {
            SetAllocationFill(before);
            SetMkldnn(wasEnabled);
        }
        return worst.Select(kv => new OneDnnComparison(kv.Key, type, fill, kv.Value)).ToList();
    }

    /// <summary>
    /// max(|actual − expected| − relative·|expected|) / max(1, max|expected|), +∞ when anything is not finite: how far past
    /// bfloat16's final rounding (relative = 2⁻⁸; 0 in float32) the result is, in units of the reference's scale. The
    /// float32 sums' different order leaves a few ulps of the terms, far below <see cref="OneDnnComparison.Bound"/>.
    /// </summary>
    private static double Error(Tensor actual, Tensor expected, double relative)
    {
        var a = actual.to_type(ScalarType.Float32);
        if (!a.isfinite().all().item<bool>()) return double.PositiveInfinity;
        double scale = Math.Max(1.0, expected.abs().max().item<float>());
        return Math.Max(0, ((a - expected).abs() - expected.abs() * relative).max().item<float>()) / scale;
    }

    /// <summary>
    /// The process's resident memory now and its peak so far (Linux: VmRSS and VmHWM of /proc/self/status), in bytes —
    /// native tensor memory included, which the .NET GC does not see. A long run's peak should stop growing after
    /// its first epoch.
    /// </summary>
    public static (long Resident, long PeakResident) Memory()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (process.WorkingSet64, process.PeakWorkingSet64);
    }

    /// <summary>"RSS 812 MiB (peak 845 MiB)", for epoch logs.</summary>
    public static string DescribeMemory()
    {
        var (rss, peak) = Memory();
        return $"RSS {rss >> 20} MiB (peak {peak >> 20} MiB)";
    }

    /// <summary>One line for logs: threads and allocator mode.</summary>
    public static string Describe() =>
        $"torch threads {Threads}, allocator {(AllocatorTuned ? "tuned (no mmap, no trim)" : "glibc default")}, oneDNN {(MkldnnEnabled ? "on" : "off")} ({MkldnnReason})";

    /// <summary>"CPU: AMD family 26 model 2 (…), AVX-512 BF16; torch threads 2, …" — the whole native picture for headers.</summary>
    public static string DescribeWithCpu() => $"CPU {CpuInfo.Host.Describe()}; {Describe()}";
}

/// <summary>One operation of the oneDNN self-check: its worst error against ATen (<see cref="NativeRuntime.CompareOneDnnWithAten"/>).</summary>
public sealed record OneDnnComparison(string Operation, ScalarType Type, AllocationFill Fill, double Error)
{
    /// <summary>The error a correct kernel stays below: float32 ulps of the terms, after bfloat16's one rounding where it applies.</summary>
    public const double Bound = 1e-4;

    public bool Passed => Error <= Bound;
}

/// <summary>What c10's CPU allocator writes into each new buffer: nothing (glibc's heap as it is), a NaN pattern, or zeros.</summary>
public enum AllocationFill { None, Junk, Zero }

/// <summary>The start-up check's finding: oneDNN exact even on NaN-filled memory, exact only on zeroed memory (it reads
/// memory it did not write, harmlessly when that memory is zero), or wrong.</summary>
public enum OneDnnVerdict { Exact, ExactOnZeroedMemory, Wrong }

/// <summary>The verdict on float32, and whether oneDNN's bfloat16 convolutions also matched (checked only where the CPU has
/// bfloat16 arithmetic and float32 passed).</summary>
public readonly record struct OneDnnCheck(OneDnnVerdict Verdict, bool BFloat16Exact);
