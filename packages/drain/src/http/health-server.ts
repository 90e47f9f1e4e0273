import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  answerClientErrors,
  capConnections,
  endWithJsonError,
  type HttpLimits,
  hardenedServerOptions,
  type Logger,
} from '@kafka-throttle/common';
import type { Registry } from 'prom-client';

/**
 * The limits of a worker's health server. Its clients are probes and a metrics scraper asking
 * small GETs: a few seconds is plenty to send one, and a few dozen connections cover every
 * prober there is; anything slower or more numerous is not a prober.
 */
export const HEALTH_SERVER_LIMITS: HttpLimits = {
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  maxConnections: 64,
};

/** Largest request head accepted (431 above): a probe's GET is a few hundred bytes. */
const MAX_HEADER_BYTES = 8 * 1024;

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Timeouts and connection cap: `HEALTH_SERVER_LIMITS` in production. */
  limits: HttpLimits;
  /** Undefined when ready; otherwise why not, for the 503 body. */
  notReadyReason(): string | undefined;
  /** Extra fields for the /readyz answer (assignment, share). */
  status(): Record<string, unknown>;
  logger: Logger;
}

export interface HealthServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `/healthz`, `/readyz` and `/metrics` of one drain worker, with the limits ingest's server has:
 * timeouts held to within half a second, a connection cap answered 503, and JSON error bodies
 * for what Node's parser refuses.
 */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const server: Server = createServer(
    {
      ...hardenedServerOptions(options.limits),
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: 5000,
      // Checked in the handler, which answers with a JSON body.
      requireHostHeader: false,
    },
    (request, response) => {
      if (isRefused(request.socket)) return;
      handle(request, response);
    },
  );
  const isRefused = capConnections(server, options.limits.maxConnections);
  answerClientErrors(server, MAX_HEADER_BYTES);
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('connection', 'close');
    sendError(response, 417, 'expectation_failed', `"${request.headers.expect}" is not supported`);
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    endWithJsonError(socket, 405, 'method_not_allowed', 'CONNECT is not supported');
  });

  function handle(request: IncomingMessage, response: ServerResponse) {
    const path = (request.url ?? '/').split('?')[0];
    if (request.httpVersion === '1.1' && request.headers.host === undefined) {
      response.setHeader('connection', 'close');
      return sendError(response, 400, 'bad_request', 'an HTTP/1.1 request needs a Host header');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return sendError(response, 405, 'method_not_allowed', `${request.method} is not allowed`);
    }
    switch (path) {
      case '/healthz':
        return sendJson(response, 200, { status: 'ok' });
      case '/readyz': {
        const reason = options.notReadyReason();
        if (reason) return sendError(response, 503, 'not_ready', reason);
        return sendJson(response, 200, { status: 'ready', ...options.status() });
      }
      case '/metrics':
        options.registry
          .metrics()
          .then((text) => {
            response.writeHead(200, { 'content-type': options.registry.contentType });
            response.end(text);
          })
          .catch((error: unknown) => {
            options.logger.error({ err: error }, 'could not collect metrics');
            sendError(response, 500, 'metrics_failed', 'metrics could not be collected');
          });
        return;
      default:
        return sendError(response, 404, 'not_found', `no route ${path}`);
    }
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendJson(response, status, { error: { code, message } });
}
