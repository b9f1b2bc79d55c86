using System.Runtime.InteropServices;

namespace DiffusionLab.Cli;

/// <summary>
/// Ctrl-C (SIGINT) or SIGTERM during a training: the first asks the trainer to stop after the step it is on, which writes
/// a checkpoint that <c>--resume</c> continues exactly — instead of losing every step since the last epoch's end. A
/// second signal ends the process at once, as it would without this.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private volatile int _signal;

    public StopSignals(TextWriter output)
    {
        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15) })
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (_signal != 0) return; // the second one: the default action ends the process
                _signal = number;
                context.Cancel = true;
                output.WriteLine($"{(number == 2 ? "SIGINT" : "SIGTERM")}: stopping after this step and writing a checkpoint (send it again to quit at once)");
            }));
    }

    /// <summary>Whether a stop was asked for; the trainer polls it after every step.</summary>
    public bool Requested => _signal != 0;

    /// <summary>The shell's code for a process ended by the signal: 130 for SIGINT, 143 for SIGTERM.</summary>
    public int ExitCode => 128 + _signal;

    /// <summary>The signal's name, for the closing line.</summary>
    public string Name => _signal == 2 ? "SIGINT" : "SIGTERM";

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _registrations.Clear();
    }
}
