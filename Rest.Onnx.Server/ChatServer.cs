using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Rest.Onnx.Server.Api;
using Rest.Onnx.Server.Serving;

namespace Rest.Onnx.Server;

/// <summary>
/// The chat server: Kestrel on one address, the routes of <see cref="ChatCompletionsEndpoint"/> and
/// <see cref="InfoEndpoints"/>, over one <see cref="ChatService"/>. Started by the command line, the tests and
/// <c>figures serve</c> (port 0: the system picks a free one; <see cref="Address"/> says which).
/// </summary>
internal sealed class ChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ChatServer(WebApplication app, ChatService service, Uri address)
    {
        _app = app;
        Service = service;
        Address = address;
    }

    public ChatService Service { get; }

    /// <summary>The base address, e.g. <c>http://127.0.0.1:8000/</c>; the OpenAI endpoint is <c>{Address}v1</c>.</summary>
    public Uri Address { get; }

    /// <summary>
    /// Loads the model (see <see cref="ChatService.Load"/>) and starts listening. Loading progress goes to
    /// <paramref name="log"/>; with <paramref name="logRequests"/> ASP.NET Core's warnings and errors go to the console.
    /// </summary>
    public static async Task<ChatServer> StartAsync(ServerOptions options, TextWriter log, bool logRequests = false, CancellationToken cancellationToken = default)
    {
        var address = ParseHost(options.Host);
        var service = ChatService.Load(options, log);
        try
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            if (logRequests) builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton(service);
            builder.WebHost.UseKestrel(kestrel =>
            {
                kestrel.Listen(address, options.Port);
                kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
                kestrel.AddServerHeader = false;
            });
            var app = builder.Build();
            app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.Handle);
            app.MapGet("/v1/models", InfoEndpoints.Models);
            app.MapGet("/v1/models/{id}", InfoEndpoints.Model);
            app.MapGet("/health", InfoEndpoints.Health);
            app.MapFallback(InfoEndpoints.NotFound);
            await app.StartAsync(cancellationToken);
            var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new ChatServer(app, service, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the host is asked to stop (Ctrl+C, SIGTERM) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Service.Dispose();
    }

    /// <exception cref="ArgumentException">Not an IP address or <c>localhost</c>.</exception>
    public static IPAddress ParseHost(string host)
        => host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var address) ? address
            : throw new ArgumentException($"--host must be an IP address or localhost, got '{host}'.");
}
