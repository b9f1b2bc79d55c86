using DiffusionLab.Cli;

namespace DiffusionLab.Tests.Cli;

/// <summary>Runs the difflab command line in-process and captures its exit code, stdout and stderr.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>A fresh temporary folder.</summary>
    public static string Temp(string prefix = "difflab-cli") => Directory.CreateTempSubdirectory(prefix).FullName;
}
