namespace DiffusionLab.Tests;

/// <summary>Files of the clone the tests read (scripts, sources, shipped examples), found above the test binaries.</summary>
internal static class RepositoryPaths
{
    /// <summary>The clone's root: the first folder above the test binaries that holds DiffusionLab.sln.</summary>
    internal static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionLab.sln"))) return dir.FullName;
        throw new InvalidOperationException("the tests do not run inside the clone: no DiffusionLab.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>A path inside the clone, given relative to its root with '/' separators.</summary>
    internal static string Of(string relative) => Path.Combine([Root(), .. relative.Split('/')]);
}
