import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

/** Limits every HTTP server of ours applies to its clients. Durations are milliseconds. */
export interface HttpLimits {
  /** Longest time to receive a request's line and headers. */
  headersTimeout: number;
  /** Longest time to receive a whole request, headers and body. */
  requestTimeout: number;
  /** Most connections open at once; the next one is answered 503 and closed. */
  maxConnections: number;
}

/**
 * How often Node looks for requests past their timeouts. Its default (30 s) lets a 10 s
 * headers timeout hold a connection for up to 40 s; checking twice a second keeps every timeout
 * within half a second of its configured value.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 500;

/** Options for `http.createServer` that make Node enforce the timeouts as configured. */
export function hardenedServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
}

/** Seconds a client turned away at the connection cap is asked to wait. */
const CAP_RETRY_AFTER_SECONDS = 1;
/** How long a refused connection may linger so the client can read its answer. */
const REFUSED_LINGER_MS = 1000;

/**
 * Caps the connections `server` holds open. A connection over the cap is answered at once with
 * `503 too_many_connections` (JSON error body, `Retry-After`, `Connection: close`) and closed:
 * the client learns why, where Node's own `maxConnections` would drop it without a word.
 * Returns a predicate telling whether a socket was refused: a request the client sends on it
 * anyway must not be handled.
 */
export function capConnections(
  server: Server,
  maxConnections: number,
  onRefused?: () => void,
): (socket: Socket) => boolean {
  const refused = new WeakSet<Socket>();
  let open = 0;
  // Before Node's own connection listener, so the answer is the first thing written.
  server.prependListener('connection', (socket: Socket) => {
    if (open >= maxConnections) {
      refused.add(socket);
      onRefused?.();
      const body = JSON.stringify({
        error: {
          code: 'too_many_connections',
          message: `the server holds ${maxConnections} connections already; retry shortly`,
        },
      });
      socket.on('error', () => {});
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\n' +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `Retry-After: ${CAP_RETRY_AFTER_SECONDS}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
      // Closing at once could reset the connection before the client read the answer.
      setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
      return;
    }
    open++;
    socket.once('close', () => {
      open--;
    });
  });
  return (socket) => refused.has(socket);
}
