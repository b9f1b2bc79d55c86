using System.Globalization;
using System.Text;

namespace DiffusionLab.Data;

/// <summary>Point sets as CSV with a header <c>x,y</c> (or any column names, one column per dimension).</summary>
public static class PointCsv
{
    public static void Write(Tensor points, string path, IReadOnlyList<string>? columns = null)
    {
        if (points.dim() != 2) throw new ArgumentException("expected points [N, D]");
        int d = (int)points.shape[1];
        columns ??= d == 2 ? ["x", "y"] : Enumerable.Range(0, d).Select(i => $"x{i}").ToList();
        var v = points.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        var sb = new StringBuilder(string.Join(',', columns)).Append('\n');
        for (int i = 0; i < points.shape[0]; i++)
        {
            for (int j = 0; j < d; j++)
            {
                if (j > 0) sb.Append(',');
                sb.Append(v[i * d + j].ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads a CSV of numbers with a header row; any malformed row is a one-line error naming the line.</summary>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"points file not found: {path}");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new DiffusionLabException($"{path} is empty (expected a header such as 'x,y' and one point per line)");
        int d = lines[0].Split(',').Length;
        var values = new List<float>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var cells = lines[i].Split(',');
            if (cells.Length != d)
                throw new DiffusionLabException($"{path} line {i + 1}: expected {d} values, got {cells.Length}");
            foreach (var c in cells)
            {
                if (!float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !float.IsFinite(f))
                    throw new DiffusionLabException($"{path} line {i + 1}: '{c.Trim()}' is not a finite number");
                values.Add(f);
            }
        }
        if (values.Count == 0) throw new DiffusionLabException($"{path} has no points");
        return torch.tensor(values.ToArray(), new long[] { values.Count / d, d });
    }
}
