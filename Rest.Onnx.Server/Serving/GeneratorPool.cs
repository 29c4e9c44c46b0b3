using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Rest.Onnx.Chat;

namespace Rest.Onnx.Server.Serving;

/// <summary>The pool has no free generator and its queue is full (answered with 429).</summary>
internal sealed class QueueFullException(string message) : Exception(message);

/// <summary>
/// A bounded pool of chat clients over one model (each owns one <see cref="Generator"/> and its KV cache, so a
/// client's follow-up turn can reuse its cache) and a bounded FIFO queue in front of it. Admission is
/// System.Threading.RateLimiting's <see cref="ConcurrencyLimiter"/> (one permit per client, queue limit, oldest first,
/// cancellable while queued); a permit holder takes any idle client.
/// </summary>
internal sealed class GeneratorPool : IDisposable
{
    private readonly RestChatClient[] _clients;
    private readonly ConcurrentStack<RestChatClient> _idle;
    private readonly ConcurrencyLimiter _limiter;

    public GeneratorPool(IReadOnlyList<RestChatClient> clients, int queueLimit)
    {
        ArgumentOutOfRangeException.ThrowIfZero(clients.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLimit);
        _clients = [.. clients];
        _idle = new ConcurrentStack<RestChatClient>(_clients);
        QueueLimit = queueLimit;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _clients.Length,
            QueueLimit = queueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int Size => _clients.Length;

    public int QueueLimit { get; }

    /// <summary>Clients not running a request.</summary>
    public int Idle => _idle.Count;

    /// <summary>Requests waiting for a client.</summary>
    public long Queued => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Any client, for work that does not touch its generator (rendering and encoding prompts).</summary>
    public RestChatClient Any => _clients[0];

    /// <summary>Waits for a client (FIFO); dispose the lease to give it back.</summary>
    /// <exception cref="QueueFullException">Every client is busy and the queue is full.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while queued.</exception>
    public async ValueTask<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        var permit = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!permit.IsAcquired)
        {
            permit.Dispose();
            throw new QueueFullException($"All {Size} generators are busy and {QueueLimit} requests are queued; retry later.");
        }
        // A permit guarantees an idle client: permits and idle clients are given back together (client first).
        if (!_idle.TryPop(out var client))
        {
            permit.Dispose();
            throw new InvalidOperationException("Generator pool invariant broken: a permit without an idle client.");
        }
        return new Lease(this, client, permit);
    }

    public void Dispose()
    {
        _limiter.Dispose();
        foreach (var client in _clients) client.Dispose();
    }

    /// <summary>One client held for one request.</summary>
    internal sealed class Lease(GeneratorPool pool, RestChatClient client, RateLimitLease permit) : IDisposable
    {
        private int _disposed;

        public RestChatClient Client { get; } = client;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            pool._idle.Push(Client);
            permit.Dispose();
        }
    }
}
