
namespace DiffusionLab.Cli;

/// <summary>
/// Progress of a long command with an ETA, written on the calling thread (no renderer thread, so no garbage collection
/// can start beside a native call; PERFORMANCE.md, "Scalar race"): on a terminal one line redrawn in place at most 5
/// times a second; when the output is redirected, a plain line at every 10 % or every 10 s, whichever comes first.
/// </summary>
public sealed class ProgressReporter
{
    private readonly TextWriter _output;
    private readonly string _what;
    private readonly bool _terminal;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _lastWrite = double.NegativeInfinity;
    private long _lastTenth = 0;
    private long? _first = 0; // the count the ETA's rate is measured from, at _firstTime
    private double _firstTime;
    private int _lineLength;

    public ProgressReporter(TextWriter output, string what, bool? terminal = null)
    {
        _output = output;
        _what = what;
        _terminal = terminal ?? (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> units of work, with an optional
    /// <paramref name="detail"/> (a loss, say) at the end of the line.</summary>
    public void Report(long done, long total, string? detail = null)
    {
        if (total <= 0) return;
        done = Math.Clamp(done, 0, total);
        double now = _clock.Elapsed.TotalSeconds, fraction = (double)done / total;
        if (_first is null)
        {
            _first = done;
            _firstTime = now;
            _lastTenth = (long)(fraction * 10);
        }
        long tenth = (long)(fraction * 10);
        bool due = _terminal ? now - _lastWrite >= 0.2 || done == total : tenth > _lastTenth || now - _lastWrite >= 10;
        if (!due) return;
        _lastWrite = now;
        _lastTenth = tenth;
        long doneHere = done - _first.Value;
        string eta = doneHere <= 0 || done == total ? "" : string.Create(CultureInfo.InvariantCulture, $", ETA {Format((now - _firstTime) / doneHere * (total - done))}");
        string line = string.Create(CultureInfo.InvariantCulture, $"{_what}: {fraction:P0} ({done}/{total}), {Format(now)} elapsed{eta}{(detail is null ? "" : ", " + detail)}");
        if (_terminal)
        {
            _output.Write("\r" + line.PadRight(_lineLength));
            _lineLength = line.Length;
        }
        else _output.WriteLine(line);
        _output.Flush();
    }

    /// <summary>Work resumed part-way (a resumed training): the next report is where this process started, so the
    /// ETA counts only the work done here.</summary>
    public void Resumed() => _first = null;

    /// <summary>Clears the terminal line, so that the command can print a line of its own (the next report draws the
    /// progress line again below it) or its summary.</summary>
    public void Done()
    {
        if (_terminal && _lineLength > 0) _output.Write("\r" + new string(' ', _lineLength) + "\r");
        _lineLength = 0;
        _lastWrite = double.NegativeInfinity;
    }

    private static string Format(double seconds) =>
        seconds >= 3600 ? $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60)} min" :
        seconds >= 60 ? $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s" :
        string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s");
}
