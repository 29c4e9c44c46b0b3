using System.Text;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx;

/// <summary>
/// Decodes generated tokens to text incrementally (a window of recent tokens, anchored on the token
/// before it so SentencePiece's leading-space rule holds), finds stop strings, and hands out new text
/// while holding back an incomplete character or a possible start of a stop string.
/// </summary>
internal sealed class TextTracker
{
    private const int WindowChars = 64;
    private readonly TextTokenizer _tokenizer;
    private readonly IReadOnlyList<string> _stopStrings;
    private readonly StringBuilder _full = new();
    private int _windowStart;     // generated index where the current decode window starts
    private int _windowConsumed;  // characters of the window's text already in _full
    private int _taken;           // characters of _full already handed out
    private bool _stopped;

    public TextTracker(TextTokenizer tokenizer, IReadOnlyList<string>? stopStrings)
    {
        _tokenizer = tokenizer;
        _stopStrings = stopStrings ?? [];
    }

    /// <summary>The text so far (cut before a stop string once one was found).</summary>
    public string Full => _full.ToString();

    /// <summary>
    /// Decodes newly generated tokens; true when a stop string appeared (the text is cut before it).
    /// Unless <paramref name="final"/>, a trailing replacement character (a multi-byte character not yet complete) waits.
    /// </summary>
    public bool Append(ReadOnlySpan<int> generated, bool final)
    {
        if (_stopped) return true;
        var window = DecodeFrom(generated, _windowStart);
        var complete = window.Length;
        while (!final && complete > 0 && window[complete - 1] == '\uFFFD') complete--; // a byte-fallback character still incomplete
        if (complete <= _windowConsumed) return false;
        var before = _full.Length;
        _full.Append(window, _windowConsumed, complete - _windowConsumed);
        _windowConsumed = complete;
        if (complete == window.Length && _windowConsumed > WindowChars)
        {
            _windowStart = generated.Length;
            _windowConsumed = 0;
        }
        return FindStop(before);
    }

    /// <summary>Text not handed out yet, minus a tail that could still become a stop string (unless <paramref name="final"/>).</summary>
    public string TakeNew(bool final)
    {
        var end = _full.Length;
        if (!final && !_stopped) end -= PossibleStopPrefix();
        if (end <= _taken) return string.Empty;
        var text = _full.ToString(_taken, end - _taken);
        _taken = end;
        return text;
    }

    private string DecodeFrom(ReadOnlySpan<int> generated, int start)
    {
        if (start == 0) return _tokenizer.Decode(generated);
        var anchored = _tokenizer.Decode(generated[(start - 1)..]);
        var anchor = _tokenizer.Decode(generated.Slice(start - 1, 1));
        return anchored.StartsWith(anchor, StringComparison.Ordinal) ? anchored[anchor.Length..] : anchored;
    }

    private bool FindStop(int appendedAt)
    {
        if (_stopStrings.Count == 0) return false;
        var text = _full.ToString();
        var first = -1;
        foreach (var stop in _stopStrings)
        {
            var from = Math.Max(0, appendedAt - stop.Length + 1);
            var at = text.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first < 0) return false;
        _full.Length = first;
        _taken = Math.Min(_taken, first);
        _stopped = true;
        return true;
    }

    private int PossibleStopPrefix()
    {
        var hold = 0;
        foreach (var stop in _stopStrings)
        {
            for (var length = Math.Min(stop.Length - 1, _full.Length); length > hold; length--)
            {
                var matches = true;
                for (var i = 0; i < length && matches; i++) matches = _full[_full.Length - length + i] == stop[i];
                if (matches)
                {
                    hold = length;
                    break;
                }
            }
        }
        return hold;
    }
}
