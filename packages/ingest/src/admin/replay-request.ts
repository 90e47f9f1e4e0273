import {
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  parseReplayTime,
  REPLAY_TIME_EXPECTED,
  type ReplayFilters,
} from '@kafka-throttle/common';
import { AdminError } from './admin-errors.ts';
import { objectOf } from './change-request.ts';

/** The body of `POST /replay`: the filters of `pnpm replay`, and whether to move anything. */
export interface ReplayRequest {
  filters: ReplayFilters;
  dryRun: boolean;
}

/** Enough for a hand-picked list; a larger selection is a filter's job. */
const MAX_IDS = 1000;

/**
 * `{"reasons":["status"],"from":"2026-12-01T10:00:00Z","to":1796122800000,"ids":["a"],
 * "dryRun":true}`; every field optional. Checked in full before anything is read or moved.
 */
export function parseReplayRequest(body: unknown): ReplayRequest {
  const fields = objectOf(body ?? {}, ['reasons', 'from', 'to', 'ids', 'dryRun']);
  const filters: ReplayFilters = {
    ...(fields.reasons !== undefined ? { reasons: reasons(fields.reasons) } : {}),
    ...(fields.from !== undefined ? { from: time('from', fields.from) } : {}),
    ...(fields.to !== undefined ? { to: time('to', fields.to) } : {}),
    ...(fields.ids !== undefined ? { ids: ids(fields.ids) } : {}),
  };
  if (filters.from !== undefined && filters.to !== undefined && filters.from >= filters.to) {
    throw new AdminError('invalid_to', 'to must be after from');
  }
  const dryRun = fields.dryRun ?? false;
  if (typeof dryRun !== 'boolean') {
    throw new AdminError('invalid_dry_run', 'dryRun must be true or false');
  }
  return { filters, dryRun };
}

function reasons(value: unknown): DeadLetterReason[] {
  const known = DEAD_LETTER_REASONS as readonly unknown[];
  if (!Array.isArray(value) || value.length === 0 || !value.every((r) => known.includes(r))) {
    throw new AdminError(
      'invalid_reasons',
      `reasons must be a non-empty list of ${DEAD_LETTER_REASONS.map((r) => `"${r}"`).join(', ')}`,
    );
  }
  return value as DeadLetterReason[];
}

function time(field: 'from' | 'to', value: unknown): number {
  const ms =
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
      ? value
      : typeof value === 'string'
        ? parseReplayTime(value)
        : undefined;
  if (ms === undefined) {
    throw new AdminError(`invalid_${field}`, `${field} must be a time: ${REPLAY_TIME_EXPECTED}`);
  }
  return ms;
}

function ids(value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_IDS ||
    !value.every((id) => typeof id === 'string' && id.trim() !== '')
  ) {
    throw new AdminError(
      'invalid_ids',
      `ids must be a list of 1 to ${MAX_IDS} non-empty message ids`,
    );
  }
  return (value as string[]).map((id) => id.trim());
}
