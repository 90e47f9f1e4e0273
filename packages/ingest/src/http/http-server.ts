import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import {
  answerClientErrors,
  capConnections,
  endWithJsonError,
  type HttpLimits,
  hardenedServerOptions,
  type Logger,
} from '@kafka-throttle/common';
import { ERROR_STATUS, errorBody, type IngestErrorCode } from '../errors.ts';
import { oneRequestAtATime } from './connection-lane.ts';

/**
 * Largest request head (request line and headers) accepted; bigger gets 431. The same as Node's
 * default, but fixed here so a Node upgrade or `--max-http-header-size` cannot change what
 * clients may send: ids and keys travel in headers and 16 KiB is far more than they need.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface HttpServerOptions {
  logger: Logger;
  /** Called for requests refused before they reach the app (bad head, too large, slow, …). */
  onRefused?: (status: number) => void;
  limits: HttpLimits;
}

/**
 * The HTTP server around the app: deliberate limits (timeouts held to within half a second,
 * a connection cap), one request at a time per connection, and JSON error answers for what
 * Node would otherwise refuse with an empty body (a request it cannot parse, no Host header,
 * an unknown `Expect`, CONNECT).
 */
export function createHttpServer(handler: RequestListener, options: HttpServerOptions): Server {
  const log = options.logger.child({ component: 'http' });
  const refused = (status: number): void => options.onRefused?.(status);
  const inLane = oneRequestAtATime(handler);
  const listener: RequestListener = (req, res) => {
    if (isRefused(req.socket)) return;
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      refused(400);
      answer(res, 'bad_request', 'an HTTP/1.1 request needs a Host header');
      return;
    }
    inLane(req, res);
  };
  const server = createServer(
    {
      ...hardenedServerOptions(options.limits),
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: 5_000,
      noDelay: true,
      // Checked by the listener above, which answers with a JSON body.
      requireHostHeader: false,
    },
    listener,
  );
  // A client that half-closes after its request still reads the answer: without this, Node
  // ends the connection at once while the request goes on to Kafka, unanswered.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  const isRefused = capConnections(server, options.limits.maxConnections, () => refused(503));
  // The body reader sends "100 Continue" itself, once it decides to read the body: a request
  // refused from its headers (415, 413 by Content-Length) is refused before its body is sent.
  server.on('checkContinue', listener);
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    refused(417);
    answer(res, 'expectation_failed', `the expectation "${req.headers.expect}" is not supported`);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    refused(405);
    socket.on('error', () => {});
    endWithJsonError(
      socket,
      ERROR_STATUS.method_not_allowed,
      'method_not_allowed',
      'CONNECT is not supported',
    );
  });
  answerClientErrors(server, MAX_HEADER_BYTES, (answer) => {
    refused(answer.status);
    log.debug({ code: answer.code, status: answer.status }, 'request refused by the HTTP parser');
  });
  return server;
}

/** A JSON error through Node's response object; the connection closes after it. */
function answer(res: ServerResponse, code: IngestErrorCode, message: string): void {
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(ERROR_STATUS[code], {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}
