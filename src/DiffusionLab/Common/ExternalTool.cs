using System.Diagnostics;

namespace DiffusionLab;

/// <summary>
/// Runs a command-line tool the data fetchers call (npm, apt-get, dpkg-deb), with both output streams captured; a tool
/// that is not installed is a one-line error saying what to do instead, not a Win32Exception.
/// </summary>
internal static class ExternalTool
{
    /// <summary>Starts <paramref name="psi"/>; <paramref name="notInstalled"/> is the message where its program cannot be found.</summary>
    public static Process Start(ProcessStartInfo psi, string notInstalled)
    {
        try { return Process.Start(psi) ?? throw new DiffusionLabException($"could not start {psi.FileName}"); }
        catch (System.ComponentModel.Win32Exception) { throw new DiffusionLabException(notInstalled); }
    }

    /// <summary>Runs <paramref name="tool"/> to its end in <paramref name="dir"/> (null: here); its exit code and both outputs,
    /// read together so that neither pipe can fill and stop it.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string tool, IEnumerable<string> args, string? dir, string notInstalled)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (dir is not null) psi.WorkingDirectory = dir;
        using var p = Start(psi, notInstalled);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
