using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Runtime;

/// <summary>
/// TorchSharp 0.107 turns `x * 0.5`, `1 - x`, `x.clamp(-1, 1)` into temporary Scalars that nothing keeps alive during
/// the native call. A garbage collection that runs beside that call (a background GC, or one started by another
/// thread) can finalise the Scalar while libtorch reads it: "Expected false to be true … toLong". The CLI and the tests
/// therefore run with blocking GC only, and the tests one at a time.
/// </summary>
public class ScalarLifetimeTests
{
    [Fact]
    public void TheCliAndTheTestsRunWithoutBackgroundGc()
    {
        Assert.Equal("false", AppContext.GetData("System.GC.Concurrent")?.ToString()?.ToLowerInvariant());
        Assert.Equal(System.Runtime.GCLatencyMode.Batch, System.Runtime.GCSettings.LatencyMode); // what the GC actually does: Interactive with background GC
        var cliConfig = Path.Combine(Path.GetDirectoryName(typeof(DiffusionLab.Cli.CliApp).Assembly.Location)!, "difflab.runtimeconfig.json");
        using var json = JsonDocument.Parse(File.ReadAllText(cliConfig));
        var options = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.False(options.GetProperty("System.GC.Concurrent").GetBoolean());
    }

    [Fact]
    public void ScalarOperatorsSurviveLargeManagedAllocations()
    {
        // Large arrays start gen-2 collections. With background GC (DOTNET_gcConcurrent=1) this loop fails within 0.5–2 s
        // (the first seconds run TorchSharp's operators unoptimised, which keeps the Scalar alive); without, never.
        using var x = torch.randn(200_000, dtype: ScalarType.Float64, generator: new Generator(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long iterations = 0, sink = 0;
        while (clock.Elapsed.TotalSeconds < 4)
        {
            using var scope = torch.NewDisposeScope();
            if (iterations % 20 == 0) { var big = new double[4_000_000]; big[iterations % 1000] = 1; sink += big.Length; }
            var y = (1 - x) * 0.5 + 3;
            var z = y.clamp(-1, 1) / 2.0;
            Assert.Equal(0.5, z.max().item<double>(), 12); // (1 − x)/2 + 3 > 1 for every draw here: all clamp to 1, halved
            iterations++;
        }
        Assert.True(iterations > 100, $"{iterations} iterations");
    }
}
