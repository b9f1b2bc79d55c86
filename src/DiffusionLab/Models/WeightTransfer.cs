namespace DiffusionLab.Models;

/// <summary>
/// The starting point of fine-tuning: every weight of a trained network copied into another network wherever that one has
/// a weight of the same name and shape — as diffusers' <c>from_pretrained</c> loads a checkpoint into a model that gained
/// or lost modules (a class-conditional U-Net that becomes a text-conditioned one keeps its convolutions, normalisations
/// and attention, and learns only its new prompt encoder and cross-attention from scratch). A name on one side only is
/// reported, not an error; the same name with another shape is an error, because then the two are different networks
/// (another width, depth or image format) and a partial copy would be a silent surprise.
/// </summary>
public static class WeightTransfer
{
    /// <summary>What a copy did: how many tensors it copied, and the modules found on one side only.</summary>
    public sealed record Report(int Copied, int Total, IReadOnlyList<string> NewHere, IReadOnlyList<string> NotUsed)
    {
        /// <summary>One line: "initialised 120 of 180 weights from SOURCE; new here (trained from scratch): …; not used: …".</summary>
        public string Describe(string source)
        {
            var line = $"initialised {Copied} of {Total} weights from {source}";
            if (NewHere.Count > 0) line += $"; new here (trained from scratch): {Some(NewHere)}";
            if (NotUsed.Count > 0) line += $"; not used: {Some(NotUsed)}";
            return line;
        }
    }

    /// <summary>
    /// Copies into <paramref name="target"/> every state-dict entry of <paramref name="source"/> with the same name and
    /// shape (converted to the target's type and device). Throws when a shared name differs in shape, or when nothing is
    /// shared; <paramref name="sourceName"/> names the source in those messages.
    /// </summary>
    public static Report CopyMatching(nn.Module source, nn.Module target, string sourceName)
    {
        var from = source.state_dict();
        var to = target.state_dict();
        var shared = to.Keys.Where(from.ContainsKey).ToList();
        var shapes = shared.Where(k => !from[k].shape.SequenceEqual(to[k].shape))
            .Select(k => $"{k} is [{string.Join(", ", from[k].shape)}] there, [{string.Join(", ", to[k].shape)}] here").ToList();
        if (shapes.Count > 0)
            throw new DiffusionLabException($"{sourceName} is another network than this one ({Some(shapes)}): fine-tune with the same width, depth and image format");
        if (shared.Count == 0)
            throw new DiffusionLabException($"{sourceName} shares no weights with this network (another kind of model?)");
        using (torch.no_grad())
            foreach (var name in shared)
                to[name].copy_(from[name].to(to[name].dtype, to[name].device));
        return new Report(shared.Count, to.Count,
            ModulesOf(to.Keys.Where(k => !from.ContainsKey(k))), ModulesOf(from.Keys.Where(k => !to.ContainsKey(k))));
    }

    // the modules new on one side, as a reader names them: a top-level module ("text_encoder", "mid_cross"), or the part
    // of an item of a top-level list ("down.4.cross" for down.4.cross.q.weight); in first-seen order
    private static List<string> ModulesOf(IEnumerable<string> names) => names.Select(n =>
    {
        var parts = n.Split('.');
        return parts.Length > 3 && parts[1].All(char.IsDigit) ? string.Join('.', parts[..3]) : parts[0];
    }).Distinct().ToList();

    private static string Some(IReadOnlyList<string> items) => string.Join(", ", items.Take(6)) + (items.Count > 6 ? $" and {items.Count - 6} more" : "");
}
