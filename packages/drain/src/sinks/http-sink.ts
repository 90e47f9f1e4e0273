import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '@kafka-throttle/common';
import { Pool } from 'undici';
import { parseRetryAfter } from './retry-after.ts';
import type { Delivery, Sink, SinkOutcome } from './sink.ts';

export interface HttpSinkOptions {
  url: string;
  /** Longest one attempt may take, from sending to the end of the response. */
  timeoutMs: number;
  clock: Clock;
  /** Most open keep-alive connections; one is in use per partition being delivered. */
  connections?: number;
}

/** The statuses that may succeed if tried again; any other 4xx is a verdict on the record. */
const RETRIABLE_STATUS = new Set([408, 425, 429]);
const ERROR_BODY_CHARS = 300;

/**
 * POSTs each record's original body and content type to one URL over keep-alive connections,
 * with the throttle's headers, and classifies the answer.
 */
export function createHttpSink(options: HttpSinkOptions): Sink {
  const url = new URL(options.url);
  const path = `${url.pathname}${url.search}`;
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 64,
    keepAliveTimeout: 10_000,
    // Our own timer (on the injected clock) ends an attempt; these only stop undici giving up
    // first, with a different error.
    headersTimeout: options.timeoutMs + 1000,
    bodyTimeout: options.timeoutMs + 1000,
  });

  async function deliver(delivery: Delivery, signal: AbortSignal): Promise<SinkOutcome> {
    const { envelope } = delivery;
    const attempt = new AbortController();
    const timerDone = new AbortController();
    let timedOut = false;
    const onAbort = (): void => attempt.abort(signal.reason);
    if (signal.aborted) return { kind: 'retry', error: 'aborted: the worker is stopping' };
    signal.addEventListener('abort', onAbort, { once: true });
    void options.clock.sleep(options.timeoutMs, timerDone.signal).then(() => {
      if (timerDone.signal.aborted) return;
      timedOut = true;
      attempt.abort(new Error('timeout'));
    });
    try {
      const response = await pool.request({
        path,
        method: 'POST',
        headers: {
          'content-type': envelope.contentType,
          'x-throttle-id': envelope.id,
          'x-throttle-attempt': String(delivery.attempt),
          'x-throttle-received-at': String(envelope.receivedAt),
          'idempotency-key': envelope.id,
        },
        body: envelope.body,
        signal: attempt.signal,
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        await response.body.dump();
        return { kind: 'delivered', status };
      }
      const text = await response.body.text();
      const error = `HTTP ${status}${text ? `: ${text.slice(0, ERROR_BODY_CHARS)}` : ''}`;
      if (RETRIABLE_STATUS.has(status) || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], options.clock.now());
        return retryAfterMs === undefined
          ? { kind: 'retry', status, error }
          : { kind: 'retry', status, error, retryAfterMs };
      }
      return { kind: 'reject', status, error };
    } catch (cause) {
      if (timedOut) return { kind: 'retry', error: `timeout after ${options.timeoutMs} ms` };
      if (signal.aborted) return { kind: 'retry', error: 'aborted: the worker is stopping' };
      return { kind: 'retry', error: describe(cause) };
    } finally {
      timerDone.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    name: 'http',
    deliver,
    warm: warmUp,
    close: () => pool.close(),
  };
}

/**
 * The first requests of a process are slow: undici compiles its HTTP parser and the engine
 * compiles the request path, 10–40 ms on a busy machine. Deliveries are paced when they start,
 * and the destination counts them when they arrive; if the first few arrive late and the next
 * period's on time, the destination can see more than N in one window. So the code is run once
 * against a throwaway server on loopback before the first delivery; the destination sees nothing.
 */
async function warmUp(): Promise<void> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    connections: 4,
  });
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const response = await pool.request({
            path: '/warm-up',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-throttle-attempt': '1' },
            body: Buffer.from('{}'),
          });
          await response.body.text();
        }),
      );
    }
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`;
}
