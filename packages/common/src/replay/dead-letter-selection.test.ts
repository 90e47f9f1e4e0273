import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  progressGroup,
  REPLAY_COUNT_HEADER,
  replayMessage,
  select,
} from './dead-letter-selection.ts';

function deadLetter(headers: Record<string, string | Buffer>, timestamp = 1000): KafkaMessage {
  return {
    key: Buffer.from('k'),
    value: Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d]),
    timestamp: String(timestamp),
    attributes: 0,
    offset: '7',
    headers,
  };
}

const drainHeaders = {
  id: 'm-1',
  'content-type': 'application/json',
  'received-at': '999',
  'x-custom': Buffer.from([0xff, 0x00]),
  'x-dlq-reason': 'status',
  'x-dlq-status': '422',
  'x-dlq-error': 'HTTP 422',
  'x-dlq-attempts': '1',
  'x-dlq-source-topic': 't',
  'x-dlq-source-partition': '3',
  'x-dlq-source-offset': '41',
};

describe('choosing dead letters to replay', () => {
  it('keeps key, value and original headers byte for byte, drops drain notes, counts the replay', () => {
    const message = replayMessage(deadLetter(drainHeaders));
    expect(message.key).toEqual(Buffer.from('k'));
    expect(message.value).toEqual(Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d]));
    expect(message.headers).toEqual({
      id: 'm-1',
      'content-type': 'application/json',
      'received-at': '999',
      'x-custom': Buffer.from([0xff, 0x00]),
      [REPLAY_COUNT_HEADER]: '1',
    });
    const again = replayMessage(deadLetter({ ...drainHeaders, [REPLAY_COUNT_HEADER]: '2' }));
    expect(again.headers?.[REPLAY_COUNT_HEADER]).toBe('3');
  });

  it('filters by reason, time range and id', () => {
    const record = deadLetter(drainHeaders, 5000);
    expect(select(record, {}).kind).toBe('move');
    expect(select(record, { reasons: ['status'] }).kind).toBe('move');
    expect(select(record, { reasons: ['error', 'attempts-exhausted'] }).kind).toBe('filtered');
    expect(select(record, { from: 5000, to: 5001 }).kind).toBe('move');
    expect(select(record, { from: 5001 }).kind).toBe('filtered');
    expect(select(record, { to: 5000 }).kind).toBe('filtered');
    expect(select(record, { ids: ['m-2', 'm-1'] }).kind).toBe('move');
    expect(select(record, { ids: ['m-2'] }).kind).toBe('filtered');
  });

  it('a record without the expected headers is malformed, never moved', () => {
    expect(select(deadLetter({}), {})).toEqual({ kind: 'malformed', why: 'no "id" header' });
    expect(select(deadLetter({ id: 'x' }), {})).toEqual({
      kind: 'malformed',
      why: 'no "x-dlq-reason" header',
    });
  });

  it('keeps progress per filter, whatever the order the filter was given in', () => {
    expect(progressGroup('t.dlq', {})).toBe('kafka-throttle-replay.t.dlq');
    expect(progressGroup('t.dlq', { reasons: ['status', 'error'] })).toBe(
      progressGroup('t.dlq', { reasons: ['error', 'status'] }),
    );
    expect(progressGroup('t.dlq', { ids: ['a'] })).not.toBe(progressGroup('t.dlq', {}));
  });
});
