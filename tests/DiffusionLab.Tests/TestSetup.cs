using System.Runtime.CompilerServices;

// One test at a time: a GC started by another test's thread can finalise TorchSharp's temporary Scalars during this
// thread's native calls (Runtime/ScalarLifetimeTests). libtorch already uses both cores within each test.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace DiffusionLab.Tests;

internal static class TestSetup
{
    /// <summary>The same native settings as the CLI (allocator, oneDNN by self-check, threads) for every test.</summary>
    [ModuleInitializer]
    internal static void Initialise()
    {
        // the measured bf16 speed-up is cached per machine state; the tests keep theirs apart from the user's cache
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DIFFLAB_CACHE")))
            Environment.SetEnvironmentVariable("DIFFLAB_CACHE", Path.Combine(Path.GetTempPath(), "difflab-test-cache"));
        global::DiffusionLab.Runtime.NativeRuntime.Configure();
    }
}
