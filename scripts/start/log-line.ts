import { clockTime } from './pace.ts';

/**
 * Turns one stdout/stderr line of a service into what `pnpm start` shows: a delivery from the
 * log sink becomes `12:00:05.123 delivered #42 p3@17 {"number":1}` (the time the sink took it),
 * other pino JSON lines become `12:00:01.456 INFO  message key=value`, and anything that is not
 * pino JSON passes through unchanged.
 */
export interface LineFormatter {
  format(line: string): string;
  /** Deliveries seen so far: the `#n` of the last delivery line. */
  readonly deliveries: number;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

// Fields every pino line carries; repeating them on each line only adds noise.
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'v']);
const MAX_BODY_CHARS = 300;
const MAX_FIELD_CHARS = 120;

export interface LineFormatterOptions {
  /** Called with the time of each delivery (the log sink's stamp, else now). */
  onDelivery?: (timeMs: number) => void;
}

export function createLineFormatter(options: LineFormatterOptions = {}): LineFormatter {
  let deliveries = 0;
  return {
    get deliveries() {
      return deliveries;
    },
    format(line) {
      const entry = parseLogLine(line);
      if (entry === undefined) return line;
      if (entry.msg === 'delivered' && 'body' in entry) {
        deliveries += 1;
        const time = dateOf(entry.time) ?? new Date();
        options.onDelivery?.(time.getTime());
        return `${clockTime(time)} ${formatDelivery(entry, deliveries)}`;
      }
      return formatEntry(entry);
    },
  };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const entry = value as Record<string, unknown>;
    return typeof entry.msg === 'string' ? entry : undefined;
  } catch {
    return undefined;
  }
}

function formatDelivery(entry: Record<string, unknown>, n: number): string {
  const where =
    entry.partition !== undefined && entry.offset !== undefined
      ? ` p${String(entry.partition)}@${String(entry.offset)}`
      : '';
  return `delivered #${n}${where} ${clip(bodyText(entry.body), MAX_BODY_CHARS)}`;
}

/** The body as its JSON text: a string body is already that text, anything else is re-encoded. */
function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function formatEntry(entry: Record<string, unknown>): string {
  const parts: string[] = [];
  const time = dateOf(entry.time);
  if (time) parts.push(clockTime(time));
  const level = typeof entry.level === 'number' ? (LEVELS[entry.level] ?? String(entry.level)) : '';
  if (level) parts.push(level.padEnd(5));
  parts.push(String(entry.msg));
  for (const [key, value] of Object.entries(entry)) {
    if (QUIET_FIELDS.has(key) || value === undefined) continue;
    parts.push(`${key}=${clip(fieldText(key, value), MAX_FIELD_CHARS)}`);
  }
  return parts.join(' ');
}

function fieldText(key: string, value: unknown): string {
  // pino serialises errors as {type, message, stack}; the message is what a person needs here.
  if (key === 'err' && value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify(String((value as { message: unknown }).message));
  }
  return typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
}

function dateOf(time: unknown): Date | undefined {
  if (typeof time !== 'string' && typeof time !== 'number') return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
