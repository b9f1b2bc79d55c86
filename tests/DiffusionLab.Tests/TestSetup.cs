using System.Runtime.CompilerServices;

namespace DiffusionLab.Tests;

internal static class TestSetup
{
    /// <summary>The same native settings as the CLI (allocator, oneDNN by self-check, threads) for every test.</summary>
    [ModuleInitializer]
    internal static void Initialise() => global::DiffusionLab.Runtime.NativeRuntime.Configure();
}
