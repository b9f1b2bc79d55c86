using System.Globalization;

namespace DiffusionLab.Tests.Golden;

/// <summary>Reads the golden CSV files made by the scripts beside them (independent implementations).</summary>
internal static class GoldenData
{
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", file);

    public static IEnumerable<Dictionary<string, string>> Rows(string file)
    {
        var lines = File.ReadAllLines(PathOf(file));
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = line.Split(',');
            yield return header.Zip(cells).ToDictionary(p => p.First, p => p.Second);
        }
    }

    public static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
