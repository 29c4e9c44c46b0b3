
namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// A test draft source that knows the baseline's output for one prompt and drafts from it: the true
/// continuation for <see cref="CorrectDepth"/> tokens, then wrong tokens, with wrong siblings placed
/// before the right ones so that accepted rows are not contiguous (exercising KV compaction).
/// </summary>
internal sealed class ScriptedDraftSource(int[] fullSequence, int correctDepth, int wrongSiblings, int seed) : IDraftSource
{
    private readonly Random _random = new(seed);

    public int CorrectDepth { get; } = correctDepth;

    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        destination.Clear();
        var n = context.Length;
        var onTrack = n <= fullSequence.Length && context.SequenceEqual(fullSequence.AsSpan(0, n));
        var parent = -1;
        for (var depth = 0; depth < 12 && destination.Count < destination.Capacity; depth++)
        {
            for (var s = 0; s < wrongSiblings && destination.Count < destination.Capacity; s++)
            {
                var wrong = destination.Add(_random.Next(3, 512), parent);
                if (destination.Count < destination.Capacity) destination.Add(_random.Next(3, 512), wrong); // a dead branch below it
            }
            if (destination.Count == destination.Capacity) return;
            var index = n + depth;
            var right = onTrack && depth < CorrectDepth && index < fullSequence.Length;
            parent = destination.Add(right ? fullSequence[index] : _random.Next(3, 512), parent);
        }
    }
}
