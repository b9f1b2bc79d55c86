namespace DiffusionLab.Cli;

/// <summary>What a command holds until it ends (folder locks): released by <see cref="CliApp.Run"/> however it ends.
/// Per thread, so that commands run in-process (the tests) release only their own.</summary>
public static class CommandScope
{
    [ThreadStatic] private static List<IDisposable>? _held;

    public static void Hold(IDisposable resource) => (_held ??= []).Add(resource);

    public static void Release()
    {
        if (_held is null) return;
        for (int i = _held.Count - 1; i >= 0; i--) _held[i].Dispose();
        _held.Clear();
    }
}
