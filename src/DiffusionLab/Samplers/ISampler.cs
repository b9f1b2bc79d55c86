
namespace DiffusionLab.Samplers;

/// <summary>A finished sampling run: the samples and how many network evaluations they cost.</summary>
public sealed record SampleResult(Tensor Samples, int FunctionEvaluations);

/// <summary>
/// A sampler: a stateless object (settings such as η or a tolerance are constructor arguments) that turns
/// initial noise into samples of <typeparamref name="TModel"/> in <c>steps</c> steps. One instance can serve
/// several loops at once. <c>onStep</c> sees the current x after each step (for GIFs).
/// </summary>
public interface ISampler<in TModel>
{
    string Name { get; }

    SampleResult Sample(TModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null);
}
