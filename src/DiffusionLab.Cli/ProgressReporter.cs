using System.Diagnostics;
using System.Globalization;

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
    private int _lineLength;

    public ProgressReporter(TextWriter output, string what, bool? terminal = null)
    {
        _output = output;
        _what = what;
        _terminal = terminal ?? (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> units of work.</summary>
    public void Report(long done, long total)
    {
        if (total <= 0) return;
        done = Math.Clamp(done, 0, total);
        double now = _clock.Elapsed.TotalSeconds, fraction = (double)done / total;
        long tenth = (long)(fraction * 10);
        bool due = _terminal ? now - _lastWrite >= 0.2 || done == total : tenth > _lastTenth || now - _lastWrite >= 10;
        if (!due) return;
        _lastWrite = now;
        _lastTenth = tenth;
        string eta = done == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", ETA {Format(now / fraction - now)}");
        string line = string.Create(CultureInfo.InvariantCulture, $"{_what}: {fraction:P0} ({done}/{total}), {Format(now)} elapsed{eta}");
        if (_terminal)
        {
            _output.Write("\r" + line.PadRight(_lineLength));
            _lineLength = line.Length;
        }
        else _output.WriteLine(line);
        _output.Flush();
    }

    /// <summary>Clears the terminal line (the command then prints its summary).</summary>
    public void Done()
    {
        if (_terminal && _lineLength > 0) _output.Write("\r" + new string(' ', _lineLength) + "\r");
    }

    private static string Format(double seconds) =>
        seconds >= 3600 ? $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60)} min" :
        seconds >= 60 ? $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s" :
        string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s");
}
