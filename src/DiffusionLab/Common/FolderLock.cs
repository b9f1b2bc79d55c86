namespace DiffusionLab;

/// <summary>
/// An exclusive lock on an output or run folder for the length of a command, so two writers never share a folder: two
/// <c>sample</c> runs into one folder would interleave their images, two trainings would leave one seed's config beside
/// the other's losses. The lock is an OS file lock (flock on Linux, through .NET's FileShare.None) on
/// <c>DIR/.difflab.lock</c>, released by the OS when the process ends however it ends, so a killed run leaves no stale
/// lock; <c>DIR/.difflab.owner</c> names the holder (PID, verb, start) for the refusal message.
/// </summary>
public sealed class FolderLock : IDisposable
{
    public const string LockFileName = ".difflab.lock";
    public const string OwnerFileName = ".difflab.owner";

    private readonly FileStream _stream;
    private readonly string _ownerFile;

    private FolderLock(FileStream stream, string ownerFile)
    {
        _stream = stream;
        _ownerFile = ownerFile;
    }

    /// <summary>
    /// Creates <paramref name="folder"/> if needed and locks it for <paramref name="what"/> (e.g. "difflab sample"); a folder
    /// another process holds, or a path that names a file, is a one-line error.
    /// </summary>
    public static FolderLock Acquire(string folder, string what)
    {
        if (File.Exists(folder)) throw new DiffusionLabException($"{folder} is a file; the output must be a folder");
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffusionLabException($"cannot create the output folder {folder} ({e.Message}); choose another `folder`");
        }
        var lockPath = Path.Combine(folder, LockFileName);
        var ownerPath = Path.Combine(folder, OwnerFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            string holder;
            try { holder = File.ReadAllText(ownerPath).Trim(); }
            catch (IOException) { holder = "holder unknown"; }
            throw new DiffusionLabException($"{folder} is in use by another difflab process ({holder}); wait for it to finish or choose another `folder`");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffusionLabException($"cannot write to {folder} ({e.Message}); choose another `folder`"); // found before any work
        }
        try
        {
            File.WriteAllText(ownerPath, $"PID {Environment.ProcessId}, {what}, since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new FolderLock(stream, ownerPath);
    }

    public void Dispose()
    {
        try { File.Delete(_ownerFile); } catch (IOException) { } // the lock file stays: deleting it would race the next holder
        _stream.Dispose();
    }
}
