namespace DiffusionLab;

/// <summary>
/// An error caused by the user's input (a bad option value, a missing or malformed file). Its message is
/// one line meant for a person; the CLI prints it without a stack trace and exits non-zero.
/// </summary>
public class DiffusionLabException : Exception
{
    public DiffusionLabException(string message) : base(message) { }
    public DiffusionLabException(string message, Exception inner) : base(message, inner) { }
}
