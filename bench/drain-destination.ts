import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingDestination {
  url: string;
  /** Arrival times (epoch ms, sub-millisecond), in arrival order. */
  times: number[];
  /** The `X-Throttle-Id` of each arrival, in the same order as `times`. */
  ids: string[];
  reset(): void;
  close(): Promise<void>;
}

/**
 * The destination for the accuracy runs: answers 204 at once and keeps only arrival times,
 * taken when the request's headers are parsed, so it costs little per request and its own
 * garbage collection stays out of the measurement.
 */
export async function startCountingDestination(): Promise<CountingDestination> {
  let times: number[] = [];
  let ids: string[] = [];
  const server = createServer((request, response) => {
    times.push(performance.timeOrigin + performance.now());
    ids.push(String(request.headers['x-throttle-id'] ?? ''));
    request.resume();
    request.on('end', () => {
      response.writeHead(204);
      response.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  // Warm the server's own request path, so its first answers are not slower than the rest.
  for (let i = 0; i < 50; i++) {
    const response = await fetch(url, { method: 'POST', body: '{}' });
    await response.arrayBuffer();
  }
  times = [];
  ids = [];
  return {
    url,
    get times() {
      return times;
    },
    get ids() {
      return ids;
    },
    reset() {
      times = [];
      ids = [];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
