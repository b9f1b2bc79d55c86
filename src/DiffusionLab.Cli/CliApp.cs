using DiffusionLab.Cli.Commands;

namespace DiffusionLab.Cli;

/// <summary>
/// The <c>difflab</c> command line: parsing and printing only; the work is done by the library.
/// A user error prints one line to stderr and exits non-zero (2 for a bad command line, 1 for bad input);
/// anything unexpected prints one line too, with the stack trace only when DIFFLAB_DEBUG=1.
/// </summary>
public static class CliApp
{
    public const int ExitUsage = 2;
    public const int ExitUserError = 1;
    public const int ExitInternal = 70;

    public static RootCommand BuildRoot(TextWriter output)
    {
        var root = new RootCommand("DiffusionLab: train, sample, edit and evaluate diffusion models in .NET.");
        root.Subcommands.Add(ScheduleCommand.Build(output));
        root.Subcommands.Add(ForwardCommand.Build(output));
        root.Subcommands.Add(DemoCommand.Build(output));
        root.Subcommands.Add(ToyCommand.Build(output));
        root.Subcommands.Add(SdeCommand.Build(output));
        root.Subcommands.Add(DataCommand.Build(output));
        root.Subcommands.Add(TrainCommand.Build(output));
        root.Subcommands.Add(SampleCommand.Build(output));
        root.Subcommands.Add(DenoiseCommand.Build(output));
        root.Subcommands.Add(ExportCommand.Build(output));
        root.Subcommands.Add(ImportCommand.Build(output));
        root.Subcommands.Add(InpaintCommand.Build(output));
        root.Subcommands.Add(SdEditCommand.Build(output));
        root.Subcommands.Add(AnagramCommand.Build(output));
        root.Subcommands.Add(HybridCommand.Build(output));
        root.Subcommands.Add(ClassifierCommand.Build(output));
        root.Subcommands.Add(EvalCommand.Build(output));
        root.Subcommands.Add(StudyCommand.Build(output));
        root.Subcommands.Add(BenchCommand.Build(output));
        root.Subcommands.Add(DoctorCommand.Build(output));
        return root;
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        Runtime.NativeRuntime.Configure();
        var root = BuildRoot(output);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var verb = parse.CommandResult.Command == root ? "" : " " + parse.CommandResult.Command.Name;
            error.WriteLine($"difflab: error: {parse.Errors[0].Message} (see 'difflab{verb} --help')");
            return ExitUsage;
        }
        try
        {
            CheckFiniteOptions(parse);
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (DiffusionLabException e)
        {
            error.WriteLine($"difflab: error: {OneLine(ParameterFlags.Render(e, parse.CommandResult.Command))}");
            return ExitUserError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"difflab: error: {OneLine(e.Message)}");
            return ExitUserError;
        }
        catch (Exception e)
        {
            error.WriteLine($"difflab: internal error: {e.GetType().Name}: {OneLine(e.Message)}" +
                (Environment.GetEnvironmentVariable("DIFFLAB_DEBUG") == "1" ? "\n" + e : " (set DIFFLAB_DEBUG=1 for details)"));
            return ExitInternal;
        }
        finally
        {
            CommandScope.Release();
        }
    }

    private static string OneLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>
    /// A NaN or infinite number in any option is refused before any work, naming the option: System.CommandLine parses
    /// "nan" and "inf" as doubles, and a guidance scale of NaN would otherwise give black images with exit code 0.
    /// </summary>
    private static void CheckFiniteOptions(ParseResult parse)
    {
        foreach (var option in parse.CommandResult.Command.Options)
        {
            double? value = option switch
            {
                Option<double> d => parse.GetValue(d),
                Option<double?> d => parse.GetValue(d),
                Option<float> f => parse.GetValue(f),
                Option<float?> f => parse.GetValue(f),
                _ => null,
            };
            if (value is double v && !double.IsFinite(v))
                throw new DiffusionLabException($"{option.Name} must be a finite number, got {v}");
        }
    }
}
