using System.Globalization;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>What the main job does with a prompt, given the model's positions and the new tokens asked for.</summary>
internal enum PromptFate
{
    /// <summary>Prompt plus new tokens fit the model's positions: run as it is.</summary>
    Fits,

    /// <summary>Too long, and --truncate-prompts was given: its last tokens are kept (BOS stays first).</summary>
    Truncated,

    /// <summary>Too long: not run (named in the log, counted in the report).</summary>
    Skipped,
}

/// <summary>One prompt of the prompts file: its index there, label, encoded length, and the ids the job runs (empty when skipped).</summary>
internal sealed record PromptPlan(int Index, string Label, int Tokens, int[] Ids, PromptFate Fate);

/// <summary>A prompt the job did not run as it is (skipped, or truncated to <see cref="KeptTokens"/>), as report.json lists it.</summary>
internal sealed record PromptNote(int Index, string Label, int Tokens, int KeptTokens);

/// <summary>How many prompts ran, were truncated or were skipped, and why (report.json's "prompts" section).</summary>
internal sealed record PromptSelectionSummary(
    int Positions,
    int MaxNewTokens,
    string LongPrompts,
    int Total,
    int Run,
    int Truncated,
    int Skipped,
    IReadOnlyList<PromptNote> TruncatedPrompts,
    IReadOnlyList<PromptNote> SkippedPrompts)
{
    /// <summary>One line for the console table and report.md.</summary>
    public string Describe()
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"Prompts: {Run} of {Total} run");
        if (Truncated > 0) line += string.Create(CultureInfo.InvariantCulture, $" ({Truncated} left-truncated to fit)");
        line += string.Create(CultureInfo.InvariantCulture,
            $", {Skipped} skipped (prompt + {MaxNewTokens} new tokens must fit the model's {Positions} positions; long prompts: {LongPrompts}).");
        return line;
    }
}

/// <summary>
/// Decides, prompt by prompt, whether it fits the model with the new tokens asked for; one prompt that does not
/// fit never stops the job: it is skipped (default) or left-truncated (--truncate-prompts), which keeps the end
/// of the prompt, the part drafting matches and the model continues.
/// </summary>
internal static class PromptFit
{
    /// <param name="prompts">Label and encoded ids of every prompt, in file order (BOS included when the model adds it).</param>
    /// <param name="positions">The model's maximum positions.</param>
    /// <param name="maxNewTokens">New tokens per prompt.</param>
    /// <param name="truncate">Left-truncate prompts that are too long instead of skipping them.</param>
    /// <param name="keepFirst">The first id is BOS: truncation keeps it and drops the tokens after it.</param>
    /// <exception cref="ArgumentException">No prompt can fit: <paramref name="maxNewTokens"/> leaves no room, or every prompt is too long to run untruncated.</exception>
    public static IReadOnlyList<PromptPlan> Select(IReadOnlyList<(string Label, int[] Ids)> prompts, int positions, int maxNewTokens, bool truncate, bool keepFirst)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var room = positions - maxNewTokens;
        var least = keepFirst ? 2 : 1;
        if (room < least)
            throw new ArgumentException($"{maxNewTokens} new tokens leave no room for a prompt in the model's {positions} positions; lower --max-new-tokens.");
        var plans = new List<PromptPlan>(prompts.Count);
        for (var i = 0; i < prompts.Count; i++)
        {
            var (label, ids) = prompts[i];
            if (ids.Length <= room)
                plans.Add(new PromptPlan(i, label, ids.Length, ids, PromptFate.Fits));
            else if (truncate)
                plans.Add(new PromptPlan(i, label, ids.Length, TruncateLeft(ids, room, keepFirst), PromptFate.Truncated));
            else
                plans.Add(new PromptPlan(i, label, ids.Length, [], PromptFate.Skipped));
        }
        if (plans.All(p => p.Fate == PromptFate.Skipped))
            throw new ArgumentException($"All {plans.Count} prompts are longer than {room} tokens, so none fits the model's {positions} positions with {maxNewTokens} new tokens; pass --truncate-prompts or lower --max-new-tokens.");
        return plans;
    }

    /// <summary>The last <paramref name="length"/> ids (with <paramref name="keepFirst"/>, the first id and the last length - 1).</summary>
    public static int[] TruncateLeft(int[] ids, int length, bool keepFirst)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length <= length) return ids;
        return keepFirst ? [ids[0], .. ids[^(length - 1)..]] : ids[^length..];
    }

    /// <summary>The log line for a prompt that does not run as it is, or null when it fits.</summary>
    public static string? Describe(PromptPlan plan, int positions, int maxNewTokens) => plan.Fate switch
    {
        PromptFate.Skipped => string.Create(CultureInfo.InvariantCulture,
            $"Skipping prompt {plan.Index} ({plan.Label}): {plan.Tokens} tokens + {maxNewTokens} new tokens exceed the model's {positions} positions."),
        PromptFate.Truncated => string.Create(CultureInfo.InvariantCulture,
            $"Truncating prompt {plan.Index} ({plan.Label}): {plan.Tokens} tokens, keeping the last {plan.Ids.Length} so that {maxNewTokens} new tokens fit the model's {positions} positions."),
        _ => null,
    };

    public static PromptSelectionSummary Summarise(IReadOnlyList<PromptPlan> plans, int positions, int maxNewTokens, bool truncate)
    {
        ArgumentNullException.ThrowIfNull(plans);
        static PromptNote Note(PromptPlan p) => new(p.Index, p.Label, p.Tokens, p.Ids.Length);
        var truncated = plans.Where(p => p.Fate == PromptFate.Truncated).Select(Note).ToList();
        var skipped = plans.Where(p => p.Fate == PromptFate.Skipped).Select(Note).ToList();
        return new PromptSelectionSummary(positions, maxNewTokens, truncate ? "left-truncated" : "skipped",
            plans.Count, plans.Count - skipped.Count, truncated.Count, skipped.Count, truncated, skipped);
    }
}
