using DiffusionLab.Runs;
using System.Globalization;
using System.Text;
using DiffusionLab.Plotting;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Evaluation;

namespace DiffusionLab.Studies;

/// <summary>One point of the 2-D sampler study: a sampler at a budget, what it spent and how close its samples came.</summary>
public sealed record ToyStudyRow(string Sampler, int Budget, int Steps, int Nfe, double Chamfer, double Emd, double Seconds);

/// <summary>
/// Quality against network evaluations on 2-D data: every discrete sampler at each budget of network evaluations
/// (Heun and DPM-Solver++(2S) spend 2 per step, so they get ⌈(k + 1)/2⌉ steps), same noise (same seed) for all, scored by a
/// <see cref="ToyEvaluation"/> protocol against a fresh draw of the dataset.
/// </summary>
public static class ToySamplerStudy
{
    public static IReadOnlyList<ToyStudyRow> Run(ToyRun run, IReadOnlyList<string> samplers, IReadOnlyList<int> budgets, string protocol, long seed,
        Action<ToyStudyRow>? onRow = null)
    {
        if (run.Discrete is null) throw new DiffusionLabException($"the sampler study needs a DDPM run (Process ddpm), not a {(run.Bridge is null ? "score SDE" : "Schrödinger bridge")}");
        int n = ToyEvaluation.RequiredPoints(protocol);
        var rows = new List<ToyStudyRow>();
        foreach (int budget in budgets)
        {
            if (budget < 1) throw new DiffusionLabException($"budgets must be positive, got {budget}");
            foreach (var sampler in samplers)
            {
                int steps = Math.Min(DiscreteSamplers.StepsForBudget(sampler, budget), run.Discrete.Schedule.Steps);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = run.Sample(sampler, steps, n, seed);
                double seconds = clock.Elapsed.TotalSeconds;
                using var samples = result.Samples;
                var score = ToyEvaluation.Evaluate(samples.cpu(), run.Config.Dataset, protocol);
                var row = new ToyStudyRow(sampler, budget, steps, result.FunctionEvaluations, score.Chamfer, score.Emd, seconds);
                rows.Add(row);
                onRow?.Invoke(row);
            }
        }
        return rows;
    }

    /// <summary>study.csv (sampler,budget,steps,nfe,chamfer,emd,seconds) and chamfer-vs-nfe.png (log–log).</summary>
    public static void Write(IReadOnlyList<ToyStudyRow> rows, string dir, string title)
    {
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder("sampler,budget,steps,nfe,chamfer,emd,seconds\n");
        foreach (var r in rows) sb.Append(CultureInfo.InvariantCulture, $"{r.Sampler},{r.Budget},{r.Steps},{r.Nfe},{r.Chamfer:R},{r.Emd:R},{r.Seconds:R}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "study.csv"), sb.ToString());
        var plot = PlotFiles.LogLogLines(title, "network evaluations per sample", "Chamfer distance",
            rows.GroupBy(r => r.Sampler).Select(g => (g.Key, g.Select(r => (double)r.Nfe).ToArray(), g.Select(r => r.Chamfer).ToArray())));
        PlotFiles.SavePng(plot, Path.Combine(dir, "chamfer-vs-nfe.png"));
    }
}
