using System.Text.RegularExpressions;

namespace DiffusionLab;

/// <summary>
/// An error caused by the user's input (a bad option value, a missing or malformed file). Its message is
/// one line meant for a person; the CLI prints it without a stack trace and exits non-zero.
/// </summary>
/// <remarks>
/// A message names the parameters it is about in backticks — <c>$"`steps` must be at least 1, got {steps}"</c> — so that
/// each front end can say them in its own words: <see cref="Exception.Message"/> shows the library's names
/// ("steps must be at least 1, got 0"), and the command line replaces each with the flag that sets it
/// (<see cref="Render"/>; "--steps must be at least 1, got 0").
/// </remarks>
public partial class DiffusionLabException : Exception
{
    public DiffusionLabException(string message) : base(Plain(message)) => Template = message;
    public DiffusionLabException(string message, Exception inner) : base(Plain(message), inner) => Template = message;

    /// <summary>The message with its parameter names marked in backticks.</summary>
    public string Template { get; }

    /// <summary>The parameter names the message mentions, in order.</summary>
    public IReadOnlyList<string> Parameters => [.. ParameterMark().Matches(Template).Select(m => m.Groups[1].Value)];

    /// <summary>The message with every marked parameter name replaced by <paramref name="name"/>(parameter).</summary>
    public string Render(Func<string, string> name) => ParameterMark().Replace(Template, m => name(m.Groups[1].Value));

    private static string Plain(string message) => ParameterMark().Replace(message, "$1");

    // A marked name is an identifier, possibly dotted (a config field such as Mlp.Width); other backticks are left alone.
    [GeneratedRegex(@"`([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)`")]
    private static partial Regex ParameterMark();
}
