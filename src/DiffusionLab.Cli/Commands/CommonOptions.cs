using System.CommandLine;
using DiffusionLab.Diffusion;
using Spectre.Console;
using TorchSharp;

namespace DiffusionLab.Cli.Commands;

/// <summary>The options every verb takes: --seed, --device and --out.</summary>
public sealed class CommonOptions
{
    public Option<long> Seed { get; } = new("--seed") { Description = "Random seed; the same seed on the same machine gives the same numbers.", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "Torch device: cpu (default) or cuda[:N] where a CUDA build is present.", DefaultValueFactory = _ => "cpu" };
    public Option<string> Out { get; }

    public CommonOptions(string defaultOut)
    {
        Out = new("--out", "-o") { Description = "Output folder (created if missing).", DefaultValueFactory = _ => defaultOut };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Seed);
        command.Options.Add(Device);
        command.Options.Add(Out);
    }

    /// <summary>Seeds torch, resolves the device and creates the output folder.</summary>
    public (long Seed, torch.Device Device, string Out) Apply(ParseResult parse)
    {
        var seed = parse.GetValue(Seed);
        torch.manual_seed(seed);
        var device = Devices.Resolve(parse.GetValue(Device)!);
        var outDir = parse.GetValue(Out)!;
        Directory.CreateDirectory(outDir);
        return (seed, device, outDir);
    }

    /// <summary>A Spectre console that writes to <paramref name="output"/> (ANSI and animation only on a real terminal).</summary>
    public static IAnsiConsole ConsoleFor(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
}
