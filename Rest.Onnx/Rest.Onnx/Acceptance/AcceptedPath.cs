
namespace Rest.Onnx.Acceptance;

/// <summary>
/// The outcome of one verification step: the batch rows whose KV entries stay (row 0, the root, then
/// the accepted draft nodes' rows in order) and the tokens the step yields (the accepted draft tokens
/// followed by the model's own next token). Buffers are reused across steps.
/// </summary>
internal sealed class AcceptedPath
{
    private int[] _keptRows;
    private int[] _tokens;
    private int[] _firstChild;
    private int[] _nextSibling;

    public AcceptedPath(int maxRows)
    {
        _keptRows = new int[maxRows];
        _tokens = new int[maxRows];
        _firstChild = new int[maxRows];
        _nextSibling = new int[maxRows];
    }

    public int KeptCount { get; private set; }

    public int TokenCount { get; private set; }

    /// <summary>Rows to keep in the KV cache, ascending, starting with the root's row 0.</summary>
    public ReadOnlySpan<int> KeptRows => _keptRows.AsSpan(0, KeptCount);

    /// <summary>Tokens yielded: accepted drafts, then the model's token.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, TokenCount);

    /// <summary>First child row of <paramref name="row"/>, or -1.</summary>
    public int FirstChild(int row) => _firstChild[row];

    /// <summary>Next sibling row of <paramref name="row"/>, or -1.</summary>
    public int NextSibling(int row) => _nextSibling[row];

    /// <summary>Starts a step: indexes the tree's children by row (siblings in tree order) and keeps the root.</summary>
    public void Begin(DraftTree tree)
    {
        var rows = tree.Count + 1;
        if (_keptRows.Length < rows)
        {
            _keptRows = new int[rows];
            _tokens = new int[rows];
            _firstChild = new int[rows];
            _nextSibling = new int[rows];
        }
        _firstChild.AsSpan(0, rows).Fill(-1);
        _nextSibling.AsSpan(0, rows).Fill(-1);
        var parents = tree.Parents;
        // Walk backwards so that prepending keeps siblings in tree order.
        for (var node = parents.Length - 1; node >= 0; node--)
        {
            var row = node + 1;
            var parentRow = parents[node] + 1;
            _nextSibling[row] = _firstChild[parentRow];
            _firstChild[parentRow] = row;
        }
        _keptRows[0] = 0;
        KeptCount = 1;
        TokenCount = 0;
    }

    /// <summary>Accepts the draft node at <paramref name="row"/> with its token.</summary>
    public void Accept(int row, int token)
    {
        _keptRows[KeptCount++] = row;
        _tokens[TokenCount++] = token;
    }

    /// <summary>Ends the step with the model's own token.</summary>
    public void Finish(int token) => _tokens[TokenCount++] = token;
}
