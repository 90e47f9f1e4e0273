import { parseDuration } from './duration.ts';

/**
 * One configuration key: where it comes from, its default, and what a valid value is.
 * `expected` is the phrase used in error lines and in the README table, so both say the same.
 */
export interface KeySpec {
  doc: string;
  env: string;
  default: unknown;
  expected: string;
  /** Turns a string from the environment or the command line into the key's type. */
  coerce?: (text: string) => unknown;
  /** True when the (already coerced) value is acceptable. */
  valid: (value: unknown) => boolean;
  /** README text for a default that is derived from other keys. */
  defaultText?: string;
  /** A secret: never repeated in error lines, hidden by convict. */
  sensitive?: boolean;
  /** How a value appears in an error line, when it may hold something secret. */
  shown?: (value: unknown) => string;
}

// Safe integers only: 9007199254740993 would silently become 9007199254740992.
export const isInt = (value: unknown): value is number => Number.isSafeInteger(value);
export const intText = (text: string): unknown => {
  if (!/^\s*-?\d+\s*$/.test(text)) return text;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
};
export const durationText = (text: string): unknown => parseDuration(text) ?? text;

export const positiveInt = (doc: string, env: string, def: number): KeySpec => ({
  doc,
  env,
  default: def,
  expected: 'a positive integer',
  coerce: intText,
  valid: (v) => isInt(v) && v > 0,
});

export const port = (doc: string, env: string, def: number): KeySpec => ({
  doc,
  env,
  default: def,
  expected: 'a port number from 0 to 65535',
  coerce: intText,
  valid: (v) => isInt(v) && v >= 0 && v <= 65535,
});

export const duration = (doc: string, env: string, def: string, min = 1): KeySpec => ({
  doc,
  env,
  default: parseDuration(def),
  defaultText: def,
  expected:
    min === 0
      ? 'a duration such as "250ms", "5s", "1m" or milliseconds'
      : 'a positive duration such as "250ms", "5s", "1m" or milliseconds',
  coerce: durationText,
  valid: (v) => typeof v === 'number' && Number.isFinite(v) && v >= min,
});

export const text = (
  doc: string,
  env: string,
  def: string,
  pattern = /^.+$/,
  expected = 'a non-empty string',
): KeySpec => ({
  doc,
  env,
  default: def,
  expected,
  valid: (v) => typeof v === 'string' && pattern.test(v),
});

export const oneOf = (
  doc: string,
  env: string,
  def: string,
  options: readonly string[],
): KeySpec => ({
  doc,
  env,
  default: def,
  expected: `one of ${options.map((o) => `"${o}"`).join(', ')}`,
  valid: (v) => typeof v === 'string' && options.includes(v),
});

// Kafka refuses "." and ".." as topic names, and names over 249 characters.
export const TOPIC = /^(?!\.\.?$)[a-zA-Z0-9._-]{1,249}$/;
export const TOPIC_EXPECTED = 'a topic name of letters, digits, ".", "_" or "-"';
const BROKER = /^[^\s:,]+:(\d{1,5})$/;
export const isBroker = (value: unknown): boolean => {
  const port = typeof value === 'string' ? Number(BROKER.exec(value)?.[1]) : Number.NaN;
  return port >= 1 && port <= 65535;
};

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
