
namespace Rest.Onnx.Acceptance;

/// <summary>
/// Exact speculative sampling for a tree of deterministic drafts (multi-draft rejection sampling).
/// At each node, with residual distribution p (the target distribution at first): try the children in
/// tree order, accepting child x with probability p(x); on rejection set p(x) = 0 and renormalise. When
/// a child is accepted, continue from it with its own target distribution; when none is, sample the
/// model's token from the residual. Each emitted token is distributed exactly as plain sampling's.
/// </summary>
internal sealed class SamplingAcceptance
{
    private readonly TokenSampler _sampler;
    private readonly double[] _weights;

    public SamplingAcceptance(TokenSampler sampler, int vocabularySize)
    {
        _sampler = sampler;
        _weights = new double[vocabularySize];
    }

    public void Accept<TLogits>(DraftTree tree, TLogits logits, Random random, AcceptedPath path)
        where TLogits : ILogitsRows
    {
        path.Begin(tree);
        var tokens = tree.Tokens;
        var weights = _weights.AsSpan();
        var row = 0;
        while (true)
        {
            var total = _sampler.Weights(logits.Row(row), weights);
            var accepted = -1;
            for (var child = path.FirstChild(row); child >= 0; child = path.NextSibling(child))
            {
                var token = tokens[child - 1];
                var w = weights[token];
                if (w <= 0) continue;
                if (random.NextDouble() * total < w)
                {
                    accepted = child;
                    break;
                }
                weights[token] = 0;
                total -= w;
                if (total <= 0) total = Sum(weights); // rounding guard; exact arithmetic never gets here with mass left
            }
            if (accepted < 0)
            {
                path.Finish(TokenSampler.Sample(weights, total, random));
                return;
            }
            path.Accept(accepted, tokens[accepted - 1]);
            row = accepted;
        }
    }

    private static double Sum(ReadOnlySpan<double> weights)
    {
        var sum = 0.0;
        foreach (var w in weights) sum += w;
        return sum;
    }
}
