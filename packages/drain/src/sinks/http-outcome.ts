import { parseRetryAfter } from './retry-after.ts';
import type { SinkOutcome } from './sink.ts';

/** The statuses that may succeed if tried again; any other 4xx is a verdict on the record. */
const RETRIABLE_STATUS = new Set([408, 425, 429]);
/** How much of an error answer's body is kept, for logs and dead-letter headers. */
export const ERROR_BODY_CHARS = 300;

/** What the destination's answer means for the record. `now` is for an HTTP-date Retry-After. */
export function classifyAnswer(
  status: number,
  retryAfter: string | string[] | undefined,
  body: Buffer[],
  now: number,
): SinkOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const text = Buffer.concat(body).toString('utf8').slice(0, ERROR_BODY_CHARS);
  const error = `HTTP ${status}${text ? `: ${text}` : ''}`;
  if (RETRIABLE_STATUS.has(status) || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined
      ? { kind: 'retry', status, error }
      : { kind: 'retry', status, error, retryAfterMs };
  }
  return { kind: 'reject', status, error };
}

/** An error of the connection or request as one line: its code, if any, and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message}`;
}
