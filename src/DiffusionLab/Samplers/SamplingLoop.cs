namespace DiffusionLab.Samplers;

/// <summary>The fixed-step loop that the SDE and bridge samplers share.</summary>
public static class SamplingLoop
{
    /// <summary>
    /// From <paramref name="start"/>, x ← <paramref name="step"/>(x, i) for i = 0 … steps − 1 without gradients, each step's
    /// temporaries freed and the previous x disposed, <paramref name="onStep"/>(i + 1, x) after each; <paramref name="step"/>
    /// returns the new x and the network evaluations it spent.
    /// </summary>
    public static SampleResult Run(Tensor start, int steps, Action<int, Tensor>? onStep, Func<Tensor, int, (Tensor Next, int Evaluations)> step)
    {
        if (steps < 1) throw new DiffusionLabException($"`steps` must be at least 1, got {steps}");
        using var noGrad = torch.no_grad();
        var x = start.alias();
        int nfe = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var (next, evaluations) = step(x, i);
            nfe += evaluations;
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, nfe);
    }
}
