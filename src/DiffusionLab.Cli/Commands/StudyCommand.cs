using DiffusionLab.Studies;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab study</c>.</summary>
public static class StudyCommand
{
    public static Command Build(TextWriter output)
    {
        var study = new Command("study", "Sampling studies scored on domain features: guidance sweep (with the unconditional pass), sampler and step count.");
        study.Subcommands.Add(EvalVerbs.Study("guidance", "FID, KID, precision, recall and class accuracy against the guidance scale γ, plus the unconditional pass alone (the noise-schedule, DDIM/CFG and class-conditional assignments).", output));
        study.Subcommands.Add(EvalVerbs.Study("samplers", "FID against budgets of network evaluations for every sampler (DDPM, DDIM, DPM-Solver++ 2M / 2S / 2M-SDE, UniPC, Heun on Karras σ): study.csv and fid-vs-nfe.png.", output));
        return study;
    }
}
