import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the destination saw it; `at` is epoch ms with sub-millisecond precision. */
export interface Arrival {
  at: number;
  id: string;
  attempt: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the destination answered (epoch ms), and with what. */
  repliedAt: number;
  status: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Destination {
  url: string;
  /** The settings that point a worker's sink here. */
  sinkEnv: { SINK: 'http'; SINK_URL: string };
  arrivals: Arrival[];
  /** Arrival times of every request, sorted. */
  times(): number[];
  uniqueIds(): Set<string>;
  /** Resolves once `predicate` holds, checked on every arrival; rejects after `timeoutMs`. */
  until(predicate: (arrivals: Arrival[]) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** A few rounds of requests a destination answers and does not record (`x-warm-up`). */
export async function warmUp(url: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'x-warm-up': '1', 'content-type': 'application/json' },
          body: '{}',
        });
        await response.text();
      }),
    );
  }
}

/** `Destination.until` over `arrivals`; call `notify` after each arrival. */
export function arrivalWaiters(arrivals: Arrival[]): {
  notify(): void;
  until: Destination['until'];
} {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const waiter of waiters) waiter();
    },
    until(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        if (predicate(arrivals)) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `destination: condition not met after ${timeoutMs} ms (${arrivals.length} arrivals)`,
            ),
          );
        }, timeoutMs);
        function check(): void {
          if (!predicate(arrivals)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        waiters.add(check);
      });
    },
  };
}

/**
 * The API being throttled, as the tests see it: records when each request arrived (taken when
 * its headers are parsed, before the body is read) and answers as `reply` says (200 by default).
 * `port` brings a destination back where an earlier one was (a restarted server).
 */
/** Epoch ms to a fraction of a millisecond: the clock arrivals are stamped with. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export async function startDestination(
  reply: (arrival: Arrival, arrivals: Arrival[]) => Reply = () => ({ status: 200 }),
  options: { port?: number } = {},
): Promise<Destination> {
  const arrivals: Arrival[] = [];
  const waiters = arrivalWaiters(arrivals);
  const server: Server = createServer((request, response) => {
    const at = preciseNow();
    if (request.headers['x-warm-up']) {
      request.resume();
      response.end('{}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const arrival: Arrival = {
        at,
        id: String(request.headers['x-throttle-id'] ?? ''),
        attempt: Number(request.headers['x-throttle-attempt'] ?? 0),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        repliedAt: 0,
        status: 0,
      };
      arrivals.push(arrival);
      const answer = reply(arrival, arrivals);
      arrival.status = answer.status;
      arrival.repliedAt = preciseNow();
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        ...answer.headers,
      });
      response.end(answer.body ?? '{}');
      waiters.notify();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // A real destination has been running for a while; a fresh server answers its first requests
  // tens of milliseconds late, which would show up as arrival jitter that is not the worker's.
  await warmUp(`http://127.0.0.1:${port}/warm-up`);

  return recordingDestination(
    `http://127.0.0.1:${port}/hook`,
    arrivals,
    waiters.until,
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
}

/** A destination's view for the tests, over the arrivals it recorded. */
export function recordingDestination(
  url: string,
  arrivals: Arrival[],
  until: Destination['until'],
  close: () => Promise<void>,
): Destination {
  return {
    url,
    sinkEnv: { SINK: 'http', SINK_URL: url },
    arrivals,
    times: () => arrivals.map((a) => a.at).sort((a, b) => a - b),
    uniqueIds: () => new Set(arrivals.map((a) => a.id)),
    until,
    close,
  };
}
