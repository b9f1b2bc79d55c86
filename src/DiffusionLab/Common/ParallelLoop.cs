using System.Runtime.ExceptionServices;

namespace DiffusionLab;

/// <summary><c>Parallel.For</c> whose user errors come out as themselves: the first <see cref="DiffusionLabException"/>
/// of the loop is rethrown instead of an <see cref="AggregateException"/> around it, so that a bad file read in parallel
/// gives the same one-line error as one read in sequence.</summary>
internal static class ParallelLoop
{
    public static void For(int fromInclusive, int toExclusive, Action<int> body)
    {
        try { Parallel.For(fromInclusive, toExclusive, body); }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.FirstOrDefault(x => x is DiffusionLabException) is { } inner)
        {
            ExceptionDispatchInfo.Capture(inner).Throw();
        }
    }
}
