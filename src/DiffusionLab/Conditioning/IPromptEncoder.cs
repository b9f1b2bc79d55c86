namespace DiffusionLab.Conditioning;

/// <summary>
/// What turns prompts into a text-conditioned network's condition tensor: the learned GPT-2 token vocabulary
/// (<see cref="PromptVocabulary"/>, ids for an embedding trained with the U-Net) or a frozen pretrained sentence
/// encoder (<see cref="MiniLmPromptEncoder"/>, token features). The empty prompt is, for both, the dropped condition of
/// classifier-free guidance.
/// </summary>
public interface IPromptEncoder
{
    /// <summary>The positions the network's text encoder reads (its own start position included).</summary>
    int MaxTokens { get; }

    /// <summary>The tokens of the prompt itself that are read; longer prompts are cut.</summary>
    int MaxPromptTokens { get; }

    /// <summary>How <paramref name="prompt"/> is read: its token ids, what was cut, and the words read as unknown.</summary>
    PromptTokens Encode(string? prompt);

    /// <summary>The condition tensor of several prompts (on the CPU): ids [B, L] or features [B, L, F].</summary>
    Tensor EncodeBatch(IReadOnlyList<string?> prompts);
}
