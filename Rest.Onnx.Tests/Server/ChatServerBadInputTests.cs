using System.Text;
using System.Text.Json;
using Rest.Onnx.Server;

namespace Rest.Onnx.Tests.Server;

/// <summary>
/// Bad requests get a 4xx with an OpenAI-style error body naming the field, never a 500, and the server keeps
/// serving; fields real clients send that this server does not implement are accepted where ignoring them changes nothing.
/// </summary>
[NonParallelizable]
public sealed class ChatServerBadInputTests
{
    private const string User = """[{"role":"user","content":"def f(x):"}]""";
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync(new ServerOptions { Generators = 1, MaxTokens = 4 });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    /// <summary>A body with the one user message and <paramref name="fields"/> beside it.</summary>
    private static string With(string fields) => $$"""{"messages":{{User}},{{fields}}}""";

    private static TestCaseData Case(string name, string body, int status, string? param, string? code = null)
        => new TestCaseData(Encoding.UTF8.GetBytes(body), status, param, code).SetArgDisplayNames(name);

    private static IEnumerable<TestCaseData> BadRequests()
    {
        yield return Case("malformed JSON", """{"messages":""", 400, null, "invalid_json");
        yield return Case("not an object", "[1, 2]", 400, null);
        yield return Case("empty body", "", 400, null);
        yield return Case("nested too deep", new string('[', 200) + new string(']', 200), 400, null, "invalid_json");
        yield return new TestCaseData(Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"A"}]}""").Select(b => b == (byte)'A' ? (byte)0xFF : b).ToArray(), 400, null, "invalid_encoding")
            .SetArgDisplayNames("non-UTF-8");
        yield return Case("unknown field", With(""" "temprature":0 """), 400, "temprature", "unknown_parameter");
        yield return Case("duplicate field", With($$""" "messages":{{User}} """), 400, "messages");
        yield return Case("no messages", """{"max_tokens":3}""", 400, "messages");
        yield return Case("empty messages", """{"messages":[]}""", 400, "messages");
        yield return Case("messages not an array", """{"messages":"hi"}""", 400, "messages");
        yield return Case("unknown role", """{"messages":[{"role":"wizard","content":"x"}]}""", 400, "messages[0].role");
        yield return Case("tool role", """{"messages":[{"role":"tool","content":"x","tool_call_id":"1"}]}""", 400, "messages[0].role", "unsupported_parameter");
        yield return Case("unknown message field", """{"messages":[{"role":"user","content":"x","mood":"happy"}]}""", 400, "messages[0].mood", "unknown_parameter");
        yield return Case("image content", """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", 400, "messages[0].content[0].type", "unsupported_parameter");
        yield return Case("user without content", """{"messages":[{"role":"user"}]}""", 400, "messages[0].content");
        yield return Case("n=2", With(""" "n":2 """), 400, "n", "unsupported_parameter");
        yield return Case("tools", With(""" "tools":[{"type":"function","function":{"name":"f"}}] """), 400, "tools", "unsupported_parameter");
        yield return Case("logprobs", With(""" "logprobs":true """), 400, "logprobs", "unsupported_parameter");
        yield return Case("presence_penalty", With(""" "presence_penalty":0.5 """), 400, "presence_penalty", "unsupported_parameter");
        yield return Case("json response_format", With(""" "response_format":{"type":"json_object"} """), 400, "response_format", "unsupported_parameter");
        yield return Case("temperature 3", With(""" "temperature":3 """), 400, "temperature");
        yield return Case("temperature text", With(""" "temperature":"hot" """), 400, "temperature");
        yield return Case("top_p 0", With(""" "top_p":0 """), 400, "top_p");
        yield return Case("max_tokens 0", With(""" "max_tokens":0 """), 400, "max_tokens");
        yield return Case("max_tokens negative", With(""" "max_tokens":-5 """), 400, "max_tokens");
        yield return Case("max_tokens absurd", With(""" "max_tokens":1000000000000 """), 400, "max_tokens");
        yield return Case("max_tokens fraction", With(""" "max_tokens":3.5 """), 400, "max_tokens");
        yield return Case("max_tokens beyond the context", With(""" "max_completion_tokens":2000000 """), 400, "max_tokens", "context_length_exceeded");
        yield return Case("max_tokens and max_completion_tokens disagree", With(""" "max_tokens":3,"max_completion_tokens":4 """), 400, "max_tokens");
        yield return Case("prompt beyond the context", $$"""{"messages":[{"role":"user","content":"{{string.Concat(Enumerable.Repeat("def f(x): return x\\n", 400))}}"}]}""", 400, "messages", "context_length_exceeded");
        yield return Case("five stop sequences", With(""" "stop":["a","b","c","d","e"] """), 400, "stop");
        yield return Case("empty stop sequence", With(""" "stop":[""] """), 400, "stop");
        yield return Case("seed text", With(""" "seed":"x" """), 400, "seed");
        yield return Case("stream text", With(""" "stream":"yes" """), 400, "stream");
        yield return Case("unknown stream option", With(""" "stream":true,"stream_options":{"include_everything":true} """), 400, "stream_options.include_everything", "unknown_parameter");
        yield return Case("unknown model", $$"""{"model":"gpt-4o","messages":{{User}}}""", 404, "model", "model_not_found");
        yield return Case("unknown drafting", With(""" "rest":{"drafting":"fast"} """), 400, "rest.drafting");
        yield return Case("rest drafting without a datastore", With(""" "rest":{"drafting":"rest"} """), 400, "rest.drafting");
        yield return Case("budget 0", With(""" "rest":{"budget":0} """), 400, "rest.budget");
        yield return Case("budget word", With(""" "rest":{"budget":"lots"} """), 400, "rest.budget");
        yield return Case("unknown rest field", With(""" "rest":{"turbo":true} """), 400, "rest.turbo", "unknown_parameter");
        yield return Case("body over the size limit", $$"""{"messages":[{"role":"user","content":"{{new string('x', 5 << 20)}}"}]}""", 413, null, "request_too_large");
    }

    [TestCaseSource(nameof(BadRequests))]
    public async Task A_bad_request_gets_a_4xx_with_an_error_body_and_the_server_keeps_serving(byte[] body, int status, string? param, string? code)
    {
        var (actual, response) = await _server.PostAsync(body, expectContinue: body.Length > 1 << 20);
        Assert.That(actual, Is.EqualTo(status), response.ToString());
        var error = response.GetProperty("error");
        Assert.That(error.GetProperty("message").GetString(), Is.Not.Empty);
        Assert.That(error.GetProperty("type").GetString(), Is.EqualTo("invalid_request_error"));
        Assert.That(error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString(), Is.EqualTo(param));
        if (code is not null) Assert.That(error.GetProperty("code").GetString(), Is.EqualTo(code));

        var (next, reply) = await _server.PostAsync(With(""" "max_tokens":2,"temperature":0 """));
        Assert.That(next, Is.EqualTo(200), reply.ToString());
        Assert.That(reply.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), Is.EqualTo(2));
        Assert.That((await _server.HealthAsync()).GetProperty("failed").GetInt64(), Is.Zero, "no request was a server fault");
    }

    /// <summary>What real clients send beside the fields this server implements: accepted at values that ask for nothing it lacks.</summary>
    [Test]
    public async Task Fields_clients_send_are_accepted_where_ignoring_them_changes_nothing()
    {
        var (status, body) = await _server.PostAsync($$"""
            {"model":"{{_server.ModelId}}","messages":[{"role":"developer","content":"# prelude\n"},{"role":"user","name":"ada","content":[{"type":"text","text":"def f"},{"type":"text","text":"(x):"}]}],
             "user":"u-1","safety_identifier":"s","metadata":{"k":"v"},"store":false,"service_tier":"auto","n":1,"presence_penalty":0,"frequency_penalty":0,
             "logprobs":false,"top_logprobs":null,"logit_bias":{},"tools":[],"tool_choice":"none","parallel_tool_calls":true,"response_format":{"type":"text"},
             "modalities":["text"],"audio":null,"prediction":null,"stream":false,"stream_options":null,"max_tokens":3,"top_k":0,"temperature":0}
            """);
        Assert.That(status, Is.EqualTo(200), body.ToString());
        var choice = body.GetProperty("choices")[0];
        Assert.That(choice.GetProperty("message").GetProperty("content").GetString(), Is.EqualTo(_server.Greedy("# prelude\ndef f(x):", 3)), "contents concatenated in order");
        Assert.That(body.GetProperty("object").GetString(), Is.EqualTo("chat.completion"));
    }

    [Test]
    public async Task An_unknown_route_is_a_404_with_an_error_body()
    {
        using var response = await _server.Http.GetAsync("v1/completions");
        Assert.That((int)response.StatusCode, Is.EqualTo(404));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(body.RootElement.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("unknown_url"));
    }
}
