using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rest.Onnx.Server.Api;

/// <summary>How every response body is written: JSON for API clients, not for embedding in HTML, so quotes and apostrophes stay as they are.</summary>
internal static class JsonOutput
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Utf8JsonWriter Writer(Stream body) => new(body, Options);
}
