using Microsoft.ML.Tokenizers;

namespace DiffusionLab.Conditioning;

/// <summary>A prompt as token ids of a <see cref="PromptVocabulary"/>: the ids and what the encoding had to leave out.</summary>
/// <param name="Ids">[Start, tokens…, Pad…], exactly the vocabulary's <see cref="PromptVocabulary.MaxTokens"/> long.</param>
/// <param name="Length">Tokens that are not padding (Start included).</param>
/// <param name="Truncated">GPT-2 tokens cut off the end because the prompt was longer than the model reads.</param>
/// <param name="Unknown">The words of the prompt (as written, split at white space; control characters as \uXXXX) with a GPT-2
/// token no training caption had, read as <see cref="PromptVocabulary.UnknownId"/> (with a frozen encoder: a word with no
/// word piece of its vocabulary, read as [UNK] or left out); each word once, in order.</param>
public sealed record PromptTokens(long[] Ids, int Length, int Truncated, IReadOnlyList<string> Unknown)
{
    /// <summary>A word as <see cref="Unknown"/> names it: as written, control characters as \uXXXX.</summary>
    public static string Printable(string word) => string.Concat(word.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}

/// <summary>
/// A text model's vocabulary: GPT-2's byte-level byte-pair encoding (Radford et al. 2019; Sennrich et al. 2016 for BPE),
/// from Microsoft.ML.Tokenizers with the GPT-2 data package (no download), mapped onto the tokens the training captions
/// use — a 50,257-row embedding would dwarf a small U-Net, while emoji captions use about two thousand tokens. Ids 0–2
/// are reserved: <see cref="PadId"/>, <see cref="StartId"/> (every prompt begins with it, so the empty prompt — the
/// unconditional one of classifier-free guidance — is the one-token sequence [Start]) and <see cref="UnknownId"/>
/// (a token no caption had). Being byte-level, the encoder reads any string; unknown bytes become tokens like any other.
/// </summary>
public sealed class PromptVocabulary : IPromptEncoder
{
    public const long PadId = Models.TextEncoder.PadId, StartId = Models.TextEncoder.StartId, UnknownId = 2;
    private const int Reserved = 3;

    private static readonly Lazy<Tokenizer> Gpt2 = new(() => TiktokenTokenizer.CreateForModel("gpt2"));
    private readonly Dictionary<int, long> _index;

    /// <summary>The GPT-2 token ids of the vocabulary, in order: id <see cref="Reserved"/> + i is GPT-2 token <c>Gpt2Ids[i]</c>.</summary>
    public IReadOnlyList<int> Gpt2Ids { get; }

    /// <summary>The tokens a prompt is read as, Start included; longer prompts are cut.</summary>
    public int MaxTokens { get; }

    /// <summary>The prompt's own tokens read (all but Start).</summary>
    public int MaxPromptTokens => MaxTokens - 1;

    /// <summary>The number of ids (the text encoder's embedding rows).</summary>
    public int Size => Reserved + Gpt2Ids.Count;

    public PromptVocabulary(IReadOnlyList<int> gpt2Ids, int maxTokens)
    {
        if (maxTokens < 2) throw new DiffusionLabException($"`maxTokens` must be at least 2 (the start token and one word), got {maxTokens}");
        if (gpt2Ids.Distinct().Count() != gpt2Ids.Count) throw new DiffusionLabException("a prompt vocabulary lists a GPT-2 token twice");
        Gpt2Ids = gpt2Ids;
        MaxTokens = maxTokens;
        _index = gpt2Ids.Select((g, i) => (g, i)).ToDictionary(p => p.g, p => (long)(Reserved + p.i));
    }

    /// <summary>GPT-2's token ids of <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> Gpt2Tokens(string text) => Gpt2.Value.EncodeToIds(text);

    /// <summary>The vocabulary of <paramref name="captions"/>: every GPT-2 token they use, in order of first appearance.</summary>
    public static PromptVocabulary FromCaptions(IEnumerable<string> captions, int maxTokens)
    {
        var seen = new HashSet<int>();
        var order = new List<int>();
        foreach (var caption in captions)
            foreach (var id in Gpt2Tokens(caption))
                if (seen.Add(id)) order.Add(id);
        return new PromptVocabulary(order, maxTokens);
    }

    /// <summary>The ids of <paramref name="prompt"/> (trimmed; null or blank is the empty, unconditional prompt).</summary>
    public PromptTokens Encode(string? prompt)
    {
        var text = string.IsNullOrWhiteSpace(prompt) ? "" : prompt.Trim();
        // tokens with their place in the text: a byte-level token may hold part of a character, so an unknown one is
        // reported as the word it falls in, not as its own (possibly undecodable) bytes
        var tokens = text.Length == 0 ? [] : Gpt2.Value.EncodeToTokens(text, out _);
        int kept = Math.Min(tokens.Count, MaxTokens - 1);
        var ids = new long[MaxTokens];
        ids[0] = StartId;
        var unknown = new List<string>();
        for (int i = 0; i < kept; i++)
        {
            if (_index.TryGetValue(tokens[i].Id, out var id)) ids[1 + i] = id;
            else
            {
                ids[1 + i] = UnknownId;
                var word = WordAt(text, tokens[i].Offset);
                if (!unknown.Contains(word)) unknown.Add(word);
            }
        }
        return new PromptTokens(ids, 1 + kept, tokens.Count - kept, unknown);
    }

    /// <summary>The white-space-delimited word of <paramref name="text"/> that <paramref name="span"/> (a token) falls in,
    /// control characters written as \uXXXX; a token of white space alone is named as such.</summary>
    private static string WordAt(string text, Range span)
    {
        var (start, length) = span.GetOffsetAndLength(text.Length);
        int end = start + length;
        while (start < end && char.IsWhiteSpace(text[start])) start++; // GPT-2 tokens carry the space before a word
        if (start == end) return "(white space)";
        while (start > 0 && !char.IsWhiteSpace(text[start - 1])) start--;
        while (end < text.Length && !char.IsWhiteSpace(text[end])) end++;
        return PromptTokens.Printable(text[start..end]);
    }

    /// <summary>The ids of several prompts as one int64 tensor [B, MaxTokens].</summary>
    public Tensor EncodeBatch(IReadOnlyList<string?> prompts)
    {
        var all = new long[prompts.Count * MaxTokens];
        for (int b = 0; b < prompts.Count; b++) Encode(prompts[b]).Ids.CopyTo(all, b * MaxTokens);
        return torch.tensor(all, [prompts.Count, MaxTokens]);
    }
}
