using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Rest.Onnx.Chat;
using Rest.Onnx.Server.Serving;

namespace Rest.Onnx.Server.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c>: read and validate the body (4xx with an OpenAI error body on any fault), wait for a
/// generator (429 when the queue is full), run through the <see cref="RestChatClient"/> it holds, and answer with one
/// JSON completion or server-sent events in OpenAI's chunk format. A client that disconnects cancels its run, which
/// gives the generator back.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static async Task Handle(HttpContext context, ChatService service, ILogger<ChatService> logger)
    {
        var aborted = context.RequestAborted;
        service.CountRequest();
        try
        {
            using var document = await ReadBodyAsync(context.Request, aborted);
            var request = ChatRequestParser.Parse(document.RootElement);
            var prepared = service.Prepare(request);
            var waited = Stopwatch.StartNew();
            using var lease = await service.Pool.AcquireAsync(aborted);
            var queued = waited.Elapsed;
            var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), service.ModelId, DateTimeOffset.UtcNow, prepared);
            if (request.Stream) await StreamAsync(context, lease.Client, prepared, writer, request.IncludeUsage, queued);
            else await CompleteAsync(context.Response, lease.Client, prepared, writer, queued, aborted);
            // The event-stream result ends quietly when the client goes away, so a cancelled stream is told by the token.
            if (aborted.IsCancellationRequested) service.CountCancelled();
            else service.CountCompleted();
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            service.CountCancelled();   // the client went away; nobody reads an answer
        }
        catch (ApiError e)
        {
            service.CountRejected();
            await e.WriteAsync(context.Response);
        }
        catch (QueueFullException e)
        {
            service.CountRejected();
            context.Response.Headers.RetryAfter = "1";
            await new ApiError(StatusCodes.Status429TooManyRequests, e.Message, "rate_limit_error", null, "queue_full").WriteAsync(context.Response);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A fault of the server, not of the request: logged, answered 500 with the error body while the response can still say so.
            service.CountFailed();
            logger.LogError(e, "chat completion failed");
            if (!context.Response.HasStarted)
                await new ApiError(StatusCodes.Status500InternalServerError, $"The server failed on this request: {e.Message}", "server_error").WriteAsync(context.Response);
        }
    }

    /// <summary>The body as JSON: within the size limit, valid UTF-8, well-formed.</summary>
    private static async Task<JsonDocument> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // A declared length over the limit is refused before reading, so a client that waits for "100 Continue" sends nothing.
        if (request.ContentLength is { } length && request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit && length > limit)
            throw TooLarge($"The request body is {length} bytes; this server takes at most {limit}.");
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            throw e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge($"The request body is too large: {e.Message}")
                : new ApiError(e.StatusCode, $"The request body could not be read: {e.Message}", "invalid_request_error");
        }
        if (body.Length == 0) throw ApiError.Invalid("The request body is empty; send a JSON object.");
        if (!Utf8.IsValid(body)) throw ApiError.Invalid("The request body is not valid UTF-8.", null, "invalid_encoding");
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ApiError.Invalid($"The request body is not valid JSON: {e.Message}", null, "invalid_json");
        }
    }

    private static ApiError TooLarge(string message) => new(StatusCodes.Status413PayloadTooLarge, message, "invalid_request_error", null, "request_too_large");

    private static async Task CompleteAsync(HttpResponse response, RestChatClient client, PreparedRequest prepared, ChatCompletionWriter writer, TimeSpan queued, CancellationToken cancellationToken)
    {
        var reply = await client.GetResponseAsync(prepared.Messages, prepared.Options, cancellationToken);
        response.ContentType = "application/json";
        await using var json = JsonOutput.Writer(response.Body);
        writer.WriteCompletion(json, reply.Text, reply.FinishReason, reply.Usage, Statistics(reply.AdditionalProperties), Stop(reply.AdditionalProperties), queued);
        await json.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Server-sent events (ASP.NET Core's <c>TypedResults.ServerSentEvents</c>, which flushes every event): a role
    /// chunk, one content chunk per verification step, the finish chunk, the usage chunk if asked, <c>[DONE]</c>.
    /// </summary>
    private static Task StreamAsync(HttpContext context, RestChatClient client, PreparedRequest prepared, ChatCompletionWriter writer, bool includeUsage, TimeSpan queued)
        => TypedResults.ServerSentEvents(Events(client, prepared, writer, includeUsage, queued, context.RequestAborted)).ExecuteAsync(context);

    private static async IAsyncEnumerable<string> Events(RestChatClient client, PreparedRequest prepared, ChatCompletionWriter writer, bool includeUsage, TimeSpan queued,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return Json(json => writer.WriteDelta(json, "assistant", ""));
        ChatResponseUpdate? last = null;
        await foreach (var update in client.GetStreamingResponseAsync(prepared.Messages, prepared.Options, cancellationToken))
        {
            var text = update.Text;
            if (text.Length > 0) yield return Json(json => writer.WriteDelta(json, null, text));
            last = update;
        }
        var properties = last?.AdditionalProperties;
        yield return Json(json => writer.WriteFinish(json, last?.FinishReason, Statistics(properties), Stop(properties), queued));
        if (includeUsage)
        {
            var usage = last?.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            yield return Json(json => writer.WriteUsageChunk(json, usage));
        }
        yield return "[DONE]";
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOutput.Options)) write(json);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static GenerationStatistics? Statistics(AdditionalPropertiesDictionary? properties)
        => properties?.TryGetValue(RestChatClient.StatisticsKey, out var s) == true ? s as GenerationStatistics : null;

    private static StopReason? Stop(AdditionalPropertiesDictionary? properties)
        => properties?.TryGetValue(RestChatClient.StopReasonKey, out var s) == true ? s as StopReason? : null;
}
