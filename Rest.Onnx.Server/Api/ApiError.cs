using System.Text.Json;

namespace Rest.Onnx.Server.Api;

/// <summary>
/// A request the server answers with an OpenAI-style error body,
/// <c>{"error":{"message":...,"type":...,"param":...,"code":...}}</c>, and a 4xx (or 5xx) status.
/// </summary>
internal sealed class ApiError(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    /// <summary>400 <c>invalid_request_error</c> naming the parameter.</summary>
    public static ApiError Invalid(string message, string? param = null, string? code = null) => new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    /// <summary>400 for a parameter the API defines that this server does not implement (named).</summary>
    public static ApiError Unsupported(string param, string what) => Invalid($"'{param}' {what} is not supported by this server.", param, "unsupported_parameter");

    public void WriteBody(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", Message);
        json.WriteString("type", Type);
        WriteStringOrNull(json, "param", Param);
        WriteStringOrNull(json, "code", Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Writes the status (when the response has not started) and the body.</summary>
    public async Task WriteAsync(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            response.StatusCode = Status;
            response.ContentType = "application/json";
        }
        await using var json = JsonOutput.Writer(response.Body);
        WriteBody(json);
        await json.FlushAsync(response.HttpContext.RequestAborted);
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }
}
