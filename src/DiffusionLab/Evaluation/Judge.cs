using System.Globalization;
using System.Text.Json;

namespace DiffusionLab.Evaluation;

/// <summary>How often a classifier reads one set of images (a view of an anagram, a hybrid up close…) as its target class.</summary>
public sealed record JudgeVerdict(string View, int Target, int Hits, long[] Predicted)
{
    public double Rate => Predicted.Length == 0 ? double.NaN : Hits / (double)Predicted.Length;

    /// <summary>"judge: upside down (9) read as 9 in 12/16 (75 %)".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"judge: {View} read as {Target} in {Hits}/{Predicted.Length} ({Rate:P0})");
}

/// <summary>The judge of the editing verbs: a domain classifier reads each set of edited images.</summary>
public static class Judge
{
    public static IReadOnlyList<JudgeVerdict> Read(Classifier judge, IEnumerable<(string View, Tensor Images, int Target)> sets) =>
        sets.Select(set =>
        {
            using var predicted = judge.Predict(set.Images);
            var p = predicted.data<long>().ToArray();
            return new JudgeVerdict(set.View, set.Target, p.Count(v => v == set.Target), p);
        }).ToList();

    /// <summary>Writes the verdicts as JSON (view, target, rate, n, predicted), atomically.</summary>
    public static void WriteJson(string path, IEnumerable<JudgeVerdict> verdicts) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(
            verdicts.Select(v => new Dictionary<string, object> { ["view"] = v.View, ["target"] = v.Target, ["rate"] = v.Rate, ["n"] = v.Predicted.Length, ["predicted"] = v.Predicted }),
            new JsonSerializerOptions { WriteIndented = true }));
}
