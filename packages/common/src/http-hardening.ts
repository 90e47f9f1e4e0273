import { type Server, type ServerOptions, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

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
      socket.on('error', () => {});
      endWithJsonError(
        socket,
        503,
        'too_many_connections',
        `the server holds ${maxConnections} connections already; retry shortly`,
        `Retry-After: ${CAP_RETRY_AFTER_SECONDS}\r\n`,
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

/** What the HTTP layer answers, by itself, to a request its parser refused. */
export interface ClientErrorAnswer {
  status: number;
  code: 'bad_request' | 'headers_too_large' | 'request_timeout';
  message: string;
}

/**
 * Answers what Node's parser refuses (bad HTTP, a head over `maxHeaderBytes`, a request past
 * its timeout) with a JSON error body and closes the connection; Node's own answer has an empty
 * body. `onAnswered` hears each answer given, for logs and metrics.
 */
export function answerClientErrors(
  server: Server,
  maxHeaderBytes: number,
  onAnswered?: (answer: ClientErrorAnswer) => void,
): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(error.code, maxHeaderBytes);
    if (answer === undefined) {
      socket.destroy();
      return;
    }
    onAnswered?.(answer);
    // As Node does: answer only if no response of this connection has started to go out.
    const pending = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })
      ._httpMessage;
    if (!socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    endWithJsonError(socket, answer.status, answer.code, answer.message);
    // Whatever the client still sends is of no interest once the answer is out.
    socket.once('finish', () => socket.destroy());
  });
}

function clientErrorAnswer(
  code: string | undefined,
  maxHeaderBytes: number,
): ClientErrorAnswer | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'headers_too_large',
        message: `the request line and headers are larger than ${maxHeaderBytes} bytes`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request took too long' };
    default:
      return { status: 400, code: 'bad_request', message: 'the request is not valid HTTP/1.1' };
  }
}

/**
 * A JSON error written straight to a socket Node's HTTP layer has given up on (or never
 * handed to it), then the end of the connection. `extraHeaders` are whole `Name: value\r\n` lines.
 */
export function endWithJsonError(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  extraHeaders = '',
): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extraHeaders +
      'Connection: close\r\n\r\n' +
      body,
  );
}
