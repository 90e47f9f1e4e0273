import { createServer, type RequestListener, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@kafka-throttle/common';
import { errorBody, type IngestErrorCode } from '../errors.ts';

/**
 * Largest request head (request line and headers) accepted; bigger gets 431. The same as Node's
 * default, but fixed here so a Node upgrade or `--max-http-header-size` cannot change what
 * clients may send: ids and keys travel in headers and 16 KiB is far more than they need.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface HttpServerOptions {
  logger: Logger;
  /** Called for requests Node refuses before they reach the app (bad head, too large, slow). */
  onRefused?: (status: number) => void;
  /** Longest time to receive a whole request, head and body (slow clients get 408). */
  requestTimeout?: number;
  headersTimeout?: number;
}

/**
 * The HTTP server around the app: deliberate limits, and JSON error answers for requests Node's
 * parser refuses before the app sees them (it would otherwise answer with an empty body).
 */
export function createHttpServer(handler: RequestListener, options: HttpServerOptions): Server {
  const log = options.logger.child({ component: 'http' });
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: options.requestTimeout ?? 30_000,
      headersTimeout: options.headersTimeout ?? 10_000,
      keepAliveTimeout: 5_000,
      noDelay: true,
    },
    handler,
  );
  // The body reader sends "100 Continue" itself, once it decides to read the body: a request
  // refused from its headers (415, 413 by Content-Length) is refused before its body is sent.
  server.on('checkContinue', handler);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = refusalFor(error.code);
    if (refusal === undefined) {
      socket.destroy();
      return;
    }
    options.onRefused?.(refusal.status);
    log.debug({ code: error.code, status: refusal.status }, 'request refused by the HTTP parser');
    // As Node does: answer only if no response of this connection has started to go out.
    const pending = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })
      ._httpMessage;
    if (!socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(errorBody(refusal.code, refusal.message));
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    // Whatever the client still sends is of no interest once the answer is out.
    socket.once('finish', () => socket.destroy());
  });
  return server;
}

interface Refusal {
  status: number;
  code: IngestErrorCode;
  message: string;
}

function refusalFor(code: string | undefined): Refusal | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'headers_too_large',
        message: `the request line and headers are larger than ${MAX_HEADER_BYTES} bytes`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request took too long' };
    default:
      return { status: 400, code: 'bad_request', message: 'the request is not valid HTTP/1.1' };
  }
}
