using System.Globalization;
using System.Text;

namespace DiffusionLab.Schedules;

/// <summary>Writes schedules as CSV with exactly the columns <c>schedule,t,beta,alpha,alpha_bar,snr</c>, t from 1 to T.</summary>
public static class ScheduleCsv
{
    public const string Header = "schedule,t,beta,alpha,alpha_bar,snr";

    public static string Format(IEnumerable<NoiseSchedule> schedules)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var s in schedules)
        {
            var name = s.Name.Contains(',') || s.Name.Contains('"') ? "\"" + s.Name.Replace("\"", "\"\"") + "\"" : s.Name;
            for (int t = 1; t <= s.Steps; t++)
                sb.Append(name).Append(',').Append(t.ToString(CultureInfo.InvariantCulture)).Append(',')
                  .Append(R(s.Beta(t))).Append(',').Append(R(s.Alpha(t))).Append(',')
                  .Append(R(s.AlphaBar(t))).Append(',').Append(R(s.Snr(t))).Append('\n');
        }
        return sb.ToString();
    }

    public static void Write(IEnumerable<NoiseSchedule> schedules, string path) => AtomicFile.WriteAllText(path, Format(schedules));

    // Round-trip precision ("R"), so the file holds the exact doubles.
    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
