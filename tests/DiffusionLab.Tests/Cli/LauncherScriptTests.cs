using System.Diagnostics;

namespace DiffusionLab.Tests.Cli;

/// <summary>The ./difflab launcher: datasets are found in the clone's data/ whatever the current folder.</summary>
public class LauncherScriptTests
{
    /// <summary>Runs the launcher from another folder with a stand-in 'dotnet' that prints the data folder it was given.</summary>
    private static string DataFolderSeen(string? dataEnv)
    {
        var fake = Directory.CreateTempSubdirectory("difflab-fake-dotnet").FullName;
        var dotnet = Path.Combine(fake, "dotnet");
        File.WriteAllText(dotnet, "#!/usr/bin/env bash\n[ \"$1\" = build ] && exit 0\necho \"DATA=$DIFFLAB_DATA\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root(), "difflab"), "data", "show"])
        {
            WorkingDirectory = Path.GetTempPath(), RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.Environment["PATH"] = fake + ":" + Environment.GetEnvironmentVariable("PATH");
        if (dataEnv is null) psi.Environment.Remove("DIFFLAB_DATA");
        else psi.Environment["DIFFLAB_DATA"] = dataEnv;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        return output.Trim();
    }

    [Fact]
    public void DatasetsAreLookedUpInTheClonesDataFolderFromAnyFolder()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // the launcher is a bash script
        Assert.Equal($"DATA={Path.Combine(RepositoryPaths.Root(), "data")}", DataFolderSeen(null));
        Assert.Equal("DATA=/somewhere/else", DataFolderSeen("/somewhere/else")); // the user's choice wins
    }
}
