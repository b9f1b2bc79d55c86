using DiffusionLab.Studies;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab eval</c>.</summary>
public static class EvalCommand
{
    public static Command Build(TextWriter output)
    {
        var eval = new Command("eval", "Evaluate generated images on the domain classifier's features: fid, kid, pr, accuracy.");
        eval.Subcommands.Add(EvalVerbs.Metric("fid", "Fréchet distance of feature statistics, with the real-vs-real floor at the same sample size; --real/--fake may list several parts (comma-separated), stats files of 'eval stats' among them, merged into one set.", output, true));
        eval.Subcommands.Add(EvalVerbs.Metric("kid", "Kernel Inception Distance (unbiased MMD², cubic kernel) with its standard error.", output, true));
        eval.Subcommands.Add(EvalVerbs.Metric("pr", "Improved precision and recall (k-NN manifolds, k = 3).", output, true));
        eval.Subcommands.Add(EvalVerbs.Stats(output));
        eval.Subcommands.Add(EvalVerbs.NearCopiesCommand(output));
        eval.Subcommands.Add(EvalVerbs.Metric("accuracy", "How often the classifier reads each image as its class (--class, or the -classC of file names); also the classifier score and the fraction read as some class with probability ≥ 0.9 (which unlabelled images have too).", output, false));
        return eval;
    }
}
