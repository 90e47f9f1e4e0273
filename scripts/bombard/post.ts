import { performance } from 'node:perf_hooks';
import type { Send } from './run.ts';
import type { Outcome } from './summary.ts';

/**
 * POSTs `{"number": n}` as JSON to `url` with Node's fetch, whose shared agent keeps connections
 * alive between requests. A request with no HTTP answer in `timeoutMs` is a transport error.
 */
export function createPoster(url: string, timeoutMs: number): Send {
  return async (n: number): Promise<Outcome> => {
    const begin = performance.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number: n }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Reading the body frees the connection for the next request.
      await response.arrayBuffer();
      return { kind: 'response', status: response.status, latencyMs: performance.now() - begin };
    } catch (error) {
      return { kind: 'error', error: transportError(error), latencyMs: performance.now() - begin };
    }
  };
}

/** A short stable name for why no answer came: ECONNREFUSED, timeout, … */
export function transportError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timeout';
    const cause = error.cause;
    if (cause && typeof cause === 'object') {
      const code = (cause as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      const message = (cause as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return error.message;
  }
  return String(error);
}
