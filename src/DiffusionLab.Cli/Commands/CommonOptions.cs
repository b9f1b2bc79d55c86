using Spectre.Console;

namespace DiffusionLab.Cli.Commands;

/// <summary>The options every verb takes: --seed, --device and --out.</summary>
public sealed class CommonOptions
{
    public Option<long> Seed { get; } = new("--seed") { Description = "Random seed; the same seed on the same machine gives the same numbers.", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "Torch device: cpu (default) or cuda[:N] where a CUDA build is present.", DefaultValueFactory = _ => "cpu" };
    public Option<string> Out { get; }

    /// <summary><c>--shard K/N</c>, on the verbs that can split their work between processes (<see cref="Sharded"/>).</summary>
    public Option<string?>? ShardOption { get; private set; }

    /// <summary>
    /// Where --out goes when it is not given, from the other options (null: the fixed default) — sample's folder per model,
    /// so that sampling a second model does not run into the first one's samples.
    /// </summary>
    public Func<ParseResult, string?>? DefaultOutOf { get; init; }

    public CommonOptions(string defaultOut)
    {
        Out = new("--out", "-o") { Description = "Output folder (created if missing).", DefaultValueFactory = _ => defaultOut };
    }

    /// <summary>Adds <c>--shard K/N</c>: the verb does part K of N of its work and writes to OUT/shard-K-of-N/.</summary>
    public CommonOptions Sharded()
    {
        ShardOption = new("--shard")
        {
            Description = "Do part K of N (0 ≤ K < N) of the work — whole batches, so the union of the N parts is byte-identical to the unsplit run — writing to OUT/shard-K-of-N/ (images named by their index in the whole run); run the N parts anywhere (a Slurm array, a Kubernetes indexed job, mpirun), then point 'difflab eval' at OUT.",
        };
        return this;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Seed);
        command.Options.Add(Device);
        command.Options.Add(Out);
        if (ShardOption is not null) command.Options.Add(ShardOption);
    }

    /// <summary>The part of the work this process does (<see cref="Shard.Whole"/> without --shard).</summary>
    public Shard ShardOf(ParseResult parse) =>
        ShardOption is not null && parse.GetValue(ShardOption) is string text ? DiffusionLab.Shard.Parse(text) : DiffusionLab.Shard.Whole;

    /// <summary>Seeds torch, resolves the device, and creates the output folder — OUT/shard-K-of-N/ for a part of a
    /// sharded run, so that parts never share a folder — and locks it for the rest of the command
    /// (<see cref="FolderLock"/>; released when the command ends, <see cref="CliApp.Run"/>).</summary>
    public (long Seed, torch.Device Device, string Out) Apply(ParseResult parse) => Apply(parse, lockFolder: true);

    /// <summary>The same; <paramref name="lockFolder"/> false for a process that only reads the folder (a data-parallel
    /// rank other than 0, while rank 0 holds the lock and writes).</summary>
    public (long Seed, torch.Device Device, string Out) Apply(ParseResult parse, bool lockFolder)
    {
        var seed = parse.GetValue(Seed);
        torch.manual_seed(seed);
        var device = Devices.Resolve(parse.GetValue(Device)!);
        var outDir = parse.GetResult(Out) is { Implicit: false } ? parse.GetValue(Out)! : DefaultOutOf?.Invoke(parse) ?? parse.GetValue(Out)!;
        var shard = ShardOf(parse);
        if (!shard.IsWhole) outDir = Path.Combine(outDir, shard.FolderName);
        if (lockFolder) CommandScope.Hold(FolderLock.Acquire(outDir, $"difflab {parse.CommandResult.Command.Name}"));
        else Directory.CreateDirectory(outDir);
        return (seed, device, outDir);
    }

    /// <summary>
    /// <c>--precision fp32|bf16</c>: bf16 runs the U-Net under bfloat16 mixed precision (Runtime/MixedPrecision). The
    /// option does not check the name itself: each verb calls <see cref="ResolvePrecision"/> on it before any work, so a
    /// bad name is the usual one-line error (exit 1). <paramref name="what"/> says what it applies to.
    /// </summary>
    public static Option<string> Precision(string what) => new("--precision")
    {
        Description = $"fp32, or bf16: {what} in bfloat16 mixed precision (autocast's policy), used where it measures faster than fp32 on this machine (else one line says why and fp32 runs).",
        DefaultValueFactory = _ => "fp32",
    };

    /// <summary>
    /// The precision a verb runs in: checks the name, and where bf16 would fall onto a slower path than fp32 (oneDNN off, no
    /// bfloat16 arithmetic) says so in one line on <paramref name="output"/> and returns "fp32"
    /// (<see cref="Runtime.MixedPrecision.Resolve"/>).
    /// </summary>
    public static string ResolvePrecision(ParseResult parse, Option<string> precision, TextWriter output) =>
        Runtime.MixedPrecision.Resolve(parse.GetValue(precision)!, line => output.WriteLine($"{precision.Name} {line}"));

    /// <summary>A Spectre console that writes to <paramref name="output"/> (ANSI and animation only on a real terminal).</summary>
    public static IAnsiConsole ConsoleFor(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });

    /// <summary>Whole numbers of a comma-separated option value; one error names the option and the bad item.</summary>
    public static int[] ParseInts(string list, string option) =>
        ParseList<int>(list, option, "a whole number", p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>Numbers of a comma-separated option value; one error names the option and the bad item.</summary>
    public static double[] ParseDoubles(string list, string option) =>
        ParseList<double>(list, option, "a number", p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);

    private static T[] ParseList<T>(string list, string option, string kind, Func<string, T?> parse) where T : struct =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => parse(part) ?? throw new DiffusionLabException($"{option}: '{part}' is not {kind}")).ToArray();

    /// <summary>A model shipped in <c>models/NAME</c>: next to the executable (copied at build), else under the current folder.</summary>
    public static string ShippedModel(string name, string option)
    {
        foreach (var root in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            var dir = Path.Combine(root, "models", name);
            if (Directory.Exists(dir)) return dir;
        }
        throw new DiffusionLabException($"no {option} given and the shipped model models/{name} was not found");
    }
}
