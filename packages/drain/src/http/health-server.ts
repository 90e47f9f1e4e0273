import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@kafka-throttle/common';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
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

/** `/healthz`, `/readyz` and `/metrics` of one drain worker. */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
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
  });
  server.keepAliveTimeout = 5000;

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
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendJson(response, status, { error: { code, message } });
}
