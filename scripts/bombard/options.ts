import { parseArgs } from 'node:util';

/** What one `pnpm bombard` run does. */
export interface BombardOptions {
  /** Requests to send; request i (from 1) carries `{"number": i}`. */
  count: number;
  /** Requests in flight at once. */
  concurrency: number;
  url: string;
  /** Cap on requests started per second; undefined = as fast as the concurrency allows. */
  rate: number | undefined;
  /** Longest wait for one response before it counts as a transport error. */
  timeoutMs: number;
}

export type ParsedArgs = { help: true } | { help: false; options: BombardOptions };

/** A bad flag or value: the message says which and what is expected. */
export class UsageError extends Error {
  readonly code = 'bad_usage';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULTS: BombardOptions = {
  count: 100,
  concurrency: 10,
  url: 'http://localhost:8080/',
  rate: undefined,
  timeoutMs: 10_000,
};

export const USAGE = `Usage: pnpm bombard [options]

Sends POST requests with the JSON body {"number": i} (i = 1..count) to a kafka-throttle ingest
and prints what came back.

Options:
  --count <n>         requests to send (default ${DEFAULTS.count})
  --concurrency <n>   requests in flight at once (default ${DEFAULTS.concurrency})
  --url <url>         where to POST (default ${DEFAULTS.url})
  --rate <n>          at most n requests started per second (default: no cap)
  --timeout <ms>      longest wait for one response (default ${DEFAULTS.timeoutMs})
  -h, --help          show this help

Exit status: 0 when every request was accepted (2xx), 1 when any was not, 2 for bad options.`;

/** Turns command-line arguments into options; throws UsageError naming the bad flag. */
export function parseBombardArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: 'string' },
        concurrency: { type: 'string' },
        url: { type: 'string' },
        rate: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { help: true };

  const count = integerFlag('count', values.count, DEFAULTS.count, 1);
  const concurrency = integerFlag('concurrency', values.concurrency, DEFAULTS.concurrency, 1);
  const timeoutMs = integerFlag('timeout', values.timeout, DEFAULTS.timeoutMs, 1);
  const rate = values.rate === undefined ? undefined : positiveNumber('rate', values.rate);
  const url = httpUrl(typeof values.url === 'string' ? values.url : DEFAULTS.url);
  return { help: false, options: { count, concurrency, url, rate, timeoutMs } };
}

function integerFlag(
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw).trim();
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} must be an integer of at least ${min}, got "${raw}"`);
  }
  return Number(text);
}

function positiveNumber(name: string, raw: string | boolean): number {
  const text = String(raw).trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a number above 0, got "${raw}"`);
  }
  return value;
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http:// or https:// URL, got "${raw}"`);
  }
  return url.toString();
}
