using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

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

    /// <summary>Why oneDNN is on or off: "self-check passed", "self-check failed" or "DIFFLAB_MKLDNN=…".</summary>
    public static string MkldnnReason { get; private set; } = "not configured";

    /// <summary>
    /// Applies the allocator settings (unless DIFFLAB_MALLOC=default), decides oneDNN (DIFFLAB_MKLDNN=1 or 0 forces it;
    /// otherwise <see cref="OneDnnSelfCheck"/> does) and sets libtorch's thread count (DIFFLAB_THREADS, or the number of
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
                // oneDNN's convolutions are 1.5× faster than ATen's here, but on one CI VM (another CPU) libtorch 2.10's oneDNN
                // convolution backward-data and transposed convolution read memory they had not written (wrong or NaN input
                // gradients; tests/…/ConvGradientTests). So it is used only where a self-check shows it exact.
                switch (Environment.GetEnvironmentVariable("DIFFLAB_MKLDNN"))
                {
                    case "1": MkldnnEnabled = SetMkldnn(true); MkldnnReason = "DIFFLAB_MKLDNN=1"; break;
                    case "0": MkldnnEnabled = SetMkldnn(false); MkldnnReason = "DIFFLAB_MKLDNN=0"; break;
                    default:
                        bool exact = OneDnnSelfCheck();
                        MkldnnEnabled = SetMkldnn(exact);
                        MkldnnReason = exact ? "self-check passed" : "self-check failed: ATen kernels";
                        break;
                }
            }
            else if (threads is int n) torch.set_num_threads(Math.Max(1, n));
        }
    }

    /// <summary>
    /// Compares oneDNN with ATen's reference kernels where libtorch 2.10's oneDNN was seen to fail: the input gradient of
    /// a 16 → 1-channel 3×3 convolution on [32, 16, 28, 28] (against the closed form conv_transpose2d(∂L/∂y, W)) and a
    /// stride-2 transposed convolution, each after leaving NaN in freed heap memory, 12 times (the failure showed in
    /// 5–19 of 20 repetitions). About 0.4 s on 2 cores. Leaves oneDNN off; true when every result was finite and matched.
    /// </summary>
    public static bool OneDnnSelfCheck()
    {
        var generator = new Generator(20261123);
        try
        {
            for (int rep = 0; rep < 12; rep++)
            {
                using var scope = torch.NewDisposeScope();
                for (int k = 0; k < 4; k++) torch.full(new long[] { 1 << 20 }, float.NaN).Dispose(); // recycled memory holds NaN
                var w = torch.randn([1, 16, 3, 3], generator: generator) * 0.2;
                var x = torch.randn([32, 16, 28, 28], generator: generator).requires_grad_(true);
                var gradOut = torch.randn([32, 1, 28, 28], generator: generator);
                var wt = torch.randn([32, 16, 4, 4], generator: generator) * 0.1;
                var u = torch.randn([8, 32, 14, 14], generator: generator);
                SetMkldnn(true);
                nn.functional.conv2d(x, w, padding: [1, 1]).backward([gradOut]);
                Tensor transposed;
                using (torch.no_grad()) transposed = nn.functional.conv_transpose2d(u, wt, strides: [2, 2], padding: [1, 1]);
                SetMkldnn(false);
                using var noGrad = torch.no_grad();
                var expectedGrad = nn.functional.conv_transpose2d(gradOut, w, padding: [1, 1]);
                var expectedTransposed = nn.functional.conv_transpose2d(u, wt, strides: [2, 2], padding: [1, 1]);
                if (!Close(x.grad!, expectedGrad) || !Close(transposed, expectedTransposed)) return false;
            }
            return true;
        }
        finally
        {
            SetMkldnn(false);
        }
    }

    private static bool Close(Tensor actual, Tensor expected) =>
        actual.isfinite().all().item<bool>() && (actual - expected).abs().max().item<float>() <= 1e-4f * Math.Max(1f, expected.abs().max().item<float>());

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
}
