using DiffusionLab.Runtime;

namespace DiffusionLab.Cli.Commands;

/// <summary>
/// <c>difflab doctor</c>: what this machine gives DiffusionLab — the CPU, the native settings chosen at start-up, oneDNN
/// against ATen operation by operation on NaN-filled and on zero-filled buffers (float32, and bfloat16 where the CPU has
/// it), and whether bf16 mixed precision pays here. With ONEDNN_VERBOSE=1 oneDNN also names the kernel of each call, so
/// a failing operation can be traced to its implementation on the CPU that shows it.
/// </summary>
public static class DoctorCommand
{
    public static Command Build(TextWriter output)
    {
        var cmd = new Command("doctor", "Print the CPU, the native settings, oneDNN checked against ATen per operation (NaN- and zero-filled memory, fp32 and bf16) and whether bf16 pays here.");
        cmd.SetAction(_ =>
        {
            NativeRuntime.Configure();
            output.WriteLine($"CPU: {CpuInfo.Host.Describe()}; {Environment.ProcessorCount} cores");
            output.WriteLine($"native settings: {NativeRuntime.Describe()}");
            var types = CpuInfo.Host.HasBFloat16Arithmetic ? new[] { ScalarType.Float32, ScalarType.BFloat16 } : [ScalarType.Float32];
            output.WriteLine($"oneDNN against ATen (worst of 3; error past the rounding in units of the reference's scale, ≤ {OneDnnComparison.Bound:G} passes):");
            foreach (var type in types)
                foreach (var fill in new[] { AllocationFill.Junk, AllocationFill.Zero })
                    foreach (var c in NativeRuntime.CompareOneDnnWithAten(type, fill))
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {(c.Type == ScalarType.Float32 ? "fp32" : "bf16")}  {(fill == AllocationFill.Junk ? "NaN-filled" : "zeroed"),-10}  {c.Operation,-44} {(double.IsInfinity(c.Error) ? "not finite" : c.Error.ToString("E1", CultureInfo.InvariantCulture)),10}  {(c.Passed ? "ok" : "WRONG")}"));
            output.WriteLine(MixedPrecision.BFloat16Unavailable() is string why
                ? $"bf16 mixed precision: declined — {why}"
                : string.Create(CultureInfo.InvariantCulture, $"bf16 mixed precision: used ({BFloat16Speed.OnThisMachine().Speedup:F2}× fp32's speed on a U-Net block)"));
            return 0;
        });
        return cmd;
    }
}
