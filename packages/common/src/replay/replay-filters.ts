import type { DeadLetterReason } from '../dead-letter-headers.ts';

/** Which dead letters a replay moves; an absent field does not filter. */
export interface ReplayFilters {
  reasons?: readonly DeadLetterReason[];
  /** Dead-lettered at or after (epoch ms). */
  from?: number;
  /** Dead-lettered before (epoch ms). */
  to?: number;
  ids?: readonly string[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** What a time in a filter may be written as, for error messages. */
export const REPLAY_TIME_EXPECTED = 'ISO 8601 such as 2026-12-01T10:00:00Z, or epoch milliseconds';

/** ISO 8601 (a date, or a date and time) or epoch milliseconds; undefined when neither. */
export function parseReplayTime(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = ISO_DATE.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}
