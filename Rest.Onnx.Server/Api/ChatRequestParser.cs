using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rest.Onnx.Server.Api;

/// <summary>
/// Reads a chat-completions body field by field. Every top-level field of OpenAI's request is decided here, one of:
/// honoured (<c>messages</c>, <c>model</c>, <c>max_tokens</c>/<c>max_completion_tokens</c>, <c>temperature</c>, <c>top_p</c>,
/// <c>seed</c>, <c>stop</c>, <c>stream</c>, <c>stream_options</c>, and <c>top_k</c> as vLLM and llama.cpp take it);
/// accepted and ignored because ignoring changes no output (<c>user</c>, <c>safety_identifier</c>, <c>metadata</c>,
/// <c>store</c>, <c>service_tier</c>, <c>parallel_tool_calls</c>); accepted only at the value that asks for nothing this
/// server lacks, else a 400 naming the field (<c>n</c> 1, <c>presence_penalty</c>/<c>frequency_penalty</c> 0,
/// <c>logprobs</c> false, <c>top_logprobs</c> null, <c>logit_bias</c> empty, <c>tools</c>/<c>functions</c> empty,
/// <c>tool_choice</c>/<c>function_call</c> "none", <c>response_format</c> text, <c>modalities</c> ["text"], <c>audio</c>,
/// <c>prediction</c>, <c>reasoning_effort</c>, <c>web_search_options</c> null). Any other field is a 400 naming it, as is
/// a wrong type or an out-of-range value. The extension <c>rest</c> picks drafting per request.
/// </summary>
internal static class ChatRequestParser
{
    /// <summary>OpenAI's limit on stop sequences.</summary>
    public const int MaxStopSequences = 4;

    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "user", "safety_identifier", "metadata", "store", "service_tier", "parallel_tool_calls",
    };

    /// <exception cref="ApiError">The body breaks the rules above (the message names the field).</exception>
    public static ChatRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw ApiError.Invalid("The request body must be a JSON object.");
        IReadOnlyList<ChatMessage>? messages = null;
        var request = new ChatRequest { Messages = [] };
        int? maxTokens = null, maxCompletionTokens = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in root.EnumerateObject())
        {
            var name = field.Name;
            var value = field.Value;
            if (!seen.Add(name)) throw ApiError.Invalid($"Field '{name}' appears twice.", name);
            if (Ignored.Contains(name)) continue;
            switch (name)
            {
                case "messages": messages = ParseMessages(value); break;
                case "model": request = request with { Model = NullOr(value, name, v => String(v, name)) }; break;
                case "max_tokens": maxTokens = NullOr(value, name, v => (int?)PositiveInt(v, name)); break;
                case "max_completion_tokens": maxCompletionTokens = NullOr(value, name, v => (int?)PositiveInt(v, name)); break;
                case "temperature": request = request with { Temperature = NullOr(value, name, v => (float?)Number(v, name, 0, 2, minInclusive: true)) }; break;
                case "top_p": request = request with { TopP = NullOr(value, name, v => (float?)Number(v, name, 0, 1, minInclusive: false)) }; break;
                case "top_k": request = request with { TopK = NullOr(value, name, v => (int?)Int(v, name, 0, int.MaxValue)) }; break;
                case "seed": request = request with { Seed = NullOr(value, name, v => (long?)Seed(v)) }; break;
                case "stop": request = request with { Stop = ParseStop(value) }; break;
                case "stream": request = request with { Stream = NullOr(value, name, v => (bool?)Bool(v, name)) ?? false }; break;
                case "stream_options": request = request with { IncludeUsage = ParseStreamOptions(value) }; break;
                case "rest": request = request with { Rest = ParseRest(value) }; break;
                case "n":
                    if (!IsNull(value) && Int(value, name, int.MinValue, int.MaxValue) != 1) throw ApiError.Unsupported(name, "other than 1 (one choice per request)");
                    break;
                case "presence_penalty" or "frequency_penalty":
                    if (!IsNull(value) && Number(value, name, -2, 2, minInclusive: true) != 0) throw ApiError.Unsupported(name, "other than 0");
                    break;
                case "logprobs":
                    if (!IsNull(value) && Bool(value, name)) throw ApiError.Unsupported(name, "true");
                    break;
                case "logit_bias":
                    if (!IsNull(value) && (value.ValueKind != JsonValueKind.Object || value.EnumerateObject().Any())) throw ApiError.Unsupported(name, "with entries");
                    break;
                case "tools" or "functions":
                    if (!IsNull(value) && (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > 0)) throw ApiError.Unsupported(name, "(tool calling)");
                    break;
                case "tool_choice" or "function_call":
                    if (!IsNull(value) && !(value.ValueKind == JsonValueKind.String && value.GetString() == "none")) throw ApiError.Unsupported(name, "other than \"none\"");
                    break;
                case "response_format":
                    if (!IsNull(value) && !(value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
                        throw ApiError.Unsupported(name, "other than {\"type\": \"text\"}");
                    break;
                case "modalities":
                    if (!IsNull(value) && !(value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String && m.GetString() == "text")))
                        throw ApiError.Unsupported(name, "other than [\"text\"]");
                    break;
                case "top_logprobs" or "audio" or "prediction" or "reasoning_effort" or "web_search_options":
                    if (!IsNull(value)) throw ApiError.Unsupported(name, "(any value but null)");
                    break;
                default:
                    throw ApiError.Invalid($"Unrecognized request field '{name}'.", name, "unknown_parameter");
            }
        }
        if (messages is null) throw ApiError.Invalid("'messages' is required.", "messages");
        if (maxTokens is { } a && maxCompletionTokens is { } b && a != b)
            throw ApiError.Invalid($"'max_tokens' ({a}) and 'max_completion_tokens' ({b}) disagree; give one.", "max_tokens");
        return request with { Messages = messages, MaxTokens = maxCompletionTokens ?? maxTokens };
    }

    private static List<ChatMessage> ParseMessages(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array) throw ApiError.Invalid("'messages' must be an array.", "messages");
        var messages = new List<ChatMessage>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var where = $"messages[{i}]";
            if (item.ValueKind != JsonValueKind.Object) throw ApiError.Invalid($"'{where}' must be an object.", where);
            string? role = null, content = null;
            foreach (var field in item.EnumerateObject())
            {
                var param = $"{where}.{field.Name}";
                switch (field.Name)
                {
                    case "role": role = String(field.Value, param); break;
                    case "content": content = IsNull(field.Value) ? null : Content(field.Value, param); break;
                    case "name" or "refusal": break;   // a participant's name and a past refusal change nothing here
                    case "tool_call_id": break;        // only on tool messages, which the role check refuses
                    case "tool_calls":
                        if (!IsNull(field.Value) && (field.Value.ValueKind != JsonValueKind.Array || field.Value.GetArrayLength() > 0)) throw ApiError.Unsupported(param, "(tool calling)");
                        break;
                    default: throw ApiError.Invalid($"Unrecognized field '{param}'.", param, "unknown_parameter");
                }
            }
            var chatRole = role switch
            {
                null => throw ApiError.Invalid($"'{where}.role' is required.", $"{where}.role"),
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" or "function" => throw ApiError.Unsupported($"{where}.role", $"\"{role}\" (tool calling)"),
                _ => throw ApiError.Invalid($"'{where}.role' must be system, developer, user or assistant, got \"{role}\".", $"{where}.role"),
            };
            if (content is null && chatRole != ChatRole.Assistant) throw ApiError.Invalid($"'{where}.content' is required.", $"{where}.content");
            messages.Add(new ChatMessage(chatRole, content ?? ""));
            i++;
        }
        if (messages.Count == 0) throw ApiError.Invalid("'messages' must not be empty.", "messages");
        return messages;
    }

    /// <summary>A string, or an array of <c>{"type":"text","text":...}</c> parts joined in order.</summary>
    private static string Content(JsonElement value, string param)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
        if (value.ValueKind != JsonValueKind.Array) throw ApiError.Invalid($"'{param}' must be a string or an array of text parts.", param);
        var text = new System.Text.StringBuilder();
        var p = 0;
        foreach (var part in value.EnumerateArray())
        {
            var where = $"{param}[{p++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw ApiError.Invalid($"'{where}' must be an object with a string 'type'.", where);
            if (type.GetString() != "text") throw ApiError.Unsupported($"{where}.type", $"\"{type.GetString()}\" (text content only)");
            foreach (var field in part.EnumerateObject())
                if (field.Name is not ("type" or "text")) throw ApiError.Invalid($"Unrecognized field '{where}.{field.Name}'.", $"{where}.{field.Name}", "unknown_parameter");
            text.Append(part.TryGetProperty("text", out var t) ? String(t, $"{where}.text") : throw ApiError.Invalid($"'{where}.text' is required.", $"{where}.text"));
        }
        return text.ToString();
    }

    private static List<string> ParseStop(JsonElement value)
    {
        if (IsNull(value)) return [];
        if (value.ValueKind == JsonValueKind.String) return [NonEmpty(value, "stop")];
        if (value.ValueKind != JsonValueKind.Array) throw ApiError.Invalid("'stop' must be a string or an array of strings.", "stop");
        if (value.GetArrayLength() > MaxStopSequences) throw ApiError.Invalid($"'stop' has {value.GetArrayLength()} sequences; at most {MaxStopSequences}.", "stop");
        return [.. value.EnumerateArray().Select(s => NonEmpty(s, "stop"))];
    }

    private static bool ParseStreamOptions(JsonElement value)
    {
        if (IsNull(value)) return false;
        if (value.ValueKind != JsonValueKind.Object) throw ApiError.Invalid("'stream_options' must be an object.", "stream_options");
        var include = false;
        foreach (var field in value.EnumerateObject())
        {
            var param = $"stream_options.{field.Name}";
            switch (field.Name)
            {
                case "include_usage": include = !IsNull(field.Value) && Bool(field.Value, param); break;
                case "include_obfuscation": if (!IsNull(field.Value)) Bool(field.Value, param); break;   // padding against side channels: nothing to pad here
                default: throw ApiError.Invalid($"Unrecognized field '{param}'.", param, "unknown_parameter");
            }
        }
        return include;
    }

    private static RestRequestOptions ParseRest(JsonElement value)
    {
        if (IsNull(value)) return new();
        if (value.ValueKind != JsonValueKind.Object) throw ApiError.Invalid("'rest' must be an object.", "rest");
        var options = new RestRequestOptions();
        foreach (var field in value.EnumerateObject())
        {
            var param = $"rest.{field.Name}";
            var v = field.Value;
            switch (field.Name)
            {
                case "drafting": options = options with { Drafting = NonEmpty(v, param) }; break;   // the service knows which names it has
                case "budget":
                    options = options with
                    {
                        Budget = v.ValueKind == JsonValueKind.String && v.GetString() == "auto" ? DraftOptions.AutoBudget
                            : v.ValueKind == JsonValueKind.Number ? Int(v, param, 1, GenerationOptions.MaxDraftBudget)
                            : throw ApiError.Invalid($"'{param}' must be \"auto\" or an integer in [1, {GenerationOptions.MaxDraftBudget}].", param),
                    };
                    break;
                case "history": options = options with { History = Bool(v, param) }; break;
                default: throw ApiError.Invalid($"Unrecognized field '{param}' (known: drafting, budget, history).", param, "unknown_parameter");
            }
        }
        return options;
    }

    private static bool IsNull(JsonElement value) => value.ValueKind == JsonValueKind.Null;

    private static T? NullOr<T>(JsonElement value, string name, Func<JsonElement, T?> read) => IsNull(value) ? default : read(value);

    private static string String(JsonElement value, string param)
        => value.ValueKind == JsonValueKind.String ? value.GetString()! : throw ApiError.Invalid($"'{param}' must be a string.", param);

    private static string NonEmpty(JsonElement value, string param)
    {
        var s = String(value, param);
        return s.Length > 0 ? s : throw ApiError.Invalid($"'{param}' must not contain empty strings.", param);
    }

    private static bool Bool(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw ApiError.Invalid($"'{param}' must be true or false.", param),
    };

    private static int Int(JsonElement value, string param, int min, int max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var v)) throw ApiError.Invalid($"'{param}' must be an integer.", param);
        if (v < min || v > max) throw ApiError.Invalid($"'{param}' must be in [{min}, {max}], got {v}.", param);
        return (int)v;
    }

    private static int PositiveInt(JsonElement value, string param) => Int(value, param, 1, int.MaxValue);

    private static long Seed(JsonElement value)
        => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v) ? v : throw ApiError.Invalid("'seed' must be an integer.", "seed");

    private static float Number(JsonElement value, string param, double min, double max, bool minInclusive)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var v) || !double.IsFinite(v)) throw ApiError.Invalid($"'{param}' must be a number.", param);
        if (v > max || v < min || (!minInclusive && v == min))
            throw ApiError.Invalid($"'{param}' must be in {(minInclusive ? "[" : "(")}{min}, {max}], got {v}.", param);
        return (float)v;
    }
}
