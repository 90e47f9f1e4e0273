import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DLQ_HEADERS } from '../dead-letter-headers.ts';
import type { ReplayFilters } from './replay-filters.ts';

/** Counts how often a record was brought back from the dead-letter topic. */
export const REPLAY_COUNT_HEADER = 'x-replay-count';

/** What drain wrote about a dead letter, from its headers. */
export interface DeadLetterInfo {
  id: string;
  reason: string;
  status?: string;
  attempts?: string;
  sourcePartition?: string;
  sourceOffset?: string;
  /** When it was dead-lettered (the record's timestamp, epoch ms). */
  at: number;
}

export type Selection =
  | { kind: 'move'; info: DeadLetterInfo; message: Message }
  | { kind: 'filtered'; info: DeadLetterInfo }
  | { kind: 'malformed'; why: string };

const text = (headers: IHeaders, name: string): string | undefined => {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** Reads drain's headers; undefined and why when the record was not written by drain. */
export function readDeadLetter(message: KafkaMessage): DeadLetterInfo | string {
  const headers = message.headers ?? {};
  const id = text(headers, 'id');
  const reason = text(headers, DLQ_HEADERS.reason);
  if (!id) return 'no "id" header';
  if (!reason) return `no "${DLQ_HEADERS.reason}" header`;
  const optional = (key: keyof DeadLetterInfo, header: string) => {
    const value = text(headers, header);
    return value === undefined ? {} : { [key]: value };
  };
  return {
    id,
    reason,
    ...optional('status', DLQ_HEADERS.status),
    ...optional('attempts', DLQ_HEADERS.attempts),
    ...optional('sourcePartition', DLQ_HEADERS.sourcePartition),
    ...optional('sourceOffset', DLQ_HEADERS.sourceOffset),
    at: Number(message.timestamp),
  };
}

export function matches(info: DeadLetterInfo, filters: ReplayFilters): boolean {
  if (filters.reasons && !filters.reasons.some((r) => r === info.reason)) return false;
  if (filters.from !== undefined && info.at < filters.from) return false;
  if (filters.to !== undefined && info.at >= filters.to) return false;
  if (filters.ids && !filters.ids.includes(info.id)) return false;
  return true;
}

/**
 * The record as it goes back into the request topic: the same key and value bytes, the
 * original headers as they were (drain's x-dlq-* notes removed), and the replay count raised.
 */
export function replayMessage(message: KafkaMessage): Message {
  const headers: IHeaders = {};
  const dlqHeaders = new Set<string>(Object.values(DLQ_HEADERS));
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined || dlqHeaders.has(name) || name === REPLAY_COUNT_HEADER) continue;
    headers[name] = value;
  }
  const count = Number(text(message.headers ?? {}, REPLAY_COUNT_HEADER) ?? 0);
  headers[REPLAY_COUNT_HEADER] = String((Number.isFinite(count) ? count : 0) + 1);
  return { key: message.key, value: message.value, headers };
}

export function select(message: KafkaMessage, filters: ReplayFilters): Selection {
  const info = readDeadLetter(message);
  if (typeof info === 'string') return { kind: 'malformed', why: info };
  if (!matches(info, filters)) return { kind: 'filtered', info };
  return { kind: 'move', info, message: replayMessage(message) };
}

/**
 * The consumer group keeping a run's progress: one per dead-letter topic and filter, so the
 * same command run again moves nothing twice and a different filter is not hidden by it.
 */
export function progressGroup(dlqTopic: string, filters: ReplayFilters): string {
  const parts = [
    filters.reasons ? `reason=${[...filters.reasons].sort().join(',')}` : '',
    filters.from !== undefined ? `from=${filters.from}` : '',
    filters.to !== undefined ? `to=${filters.to}` : '',
    filters.ids ? `id=${[...filters.ids].sort().join(',')}` : '',
  ].filter(Boolean);
  return `kafka-throttle-replay.${dlqTopic}${parts.length ? `.${parts.join('.')}` : ''}`;
}
