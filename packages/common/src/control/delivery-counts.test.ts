import { describe, expect, it } from 'vitest';
import { BREAKER_FRESH_MS, countsKey, createCountsTally, isCountsKey } from './delivery-counts.ts';

const record = (delivered: number, retried: number, deadLettered: number) =>
  Buffer.from(JSON.stringify({ delivered, retried, deadLettered, at: 1 }));

describe('the group counts tally', () => {
  it('sums the latest record of each worker, and keeps a stopped worker in the sum', () => {
    const tally = createCountsTally();
    tally.apply(countsKey('a'), record(5, 1, 0));
    tally.apply(countsKey('b'), record(2, 0, 1));
    tally.apply(countsKey('a'), record(9, 3, 0));
    expect(tally.total()).toEqual({ delivered: 11, retried: 3, deadLettered: 1 });
    tally.apply(countsKey('a'), null);
    expect(tally.total()).toEqual({ delivered: 11, retried: 3, deadLettered: 1 });
    tally.apply(countsKey('a2'), record(1, 1, 0));
    expect(tally.total()).toEqual({ delivered: 12, retried: 4, deadLettered: 1 });
  });

  it('refuses a malformed record and leaves the sum as it was', () => {
    const tally = createCountsTally();
    tally.apply(countsKey('a'), record(1, 1, 1));
    expect(tally.apply(countsKey('a'), Buffer.from('{"delivered":-1}'))).toBe(false);
    expect(tally.apply(countsKey('a'), Buffer.from('nope'))).toBe(false);
    expect(tally.total()).toEqual({ delivered: 1, retried: 1, deadLettered: 1 });
  });

  it('names the workers whose breaker is open, while their reports are fresh', () => {
    const tally = createCountsTally();
    const report = (at: number, breaker?: object) =>
      Buffer.from(JSON.stringify({ delivered: 1, retried: 4, deadLettered: 0, at, breaker }));
    tally.apply(countsKey('a'), report(10_000, { reason: 'HTTP 503', since: 9_000 }));
    tally.apply(countsKey('b'), report(10_000));
    expect(tally.openBreakers(11_000)).toEqual([{ worker: 'a', reason: 'HTTP 503', since: 9_000 }]);
    // A worker that crashed with its breaker open writes nothing more: its word goes stale.
    expect(tally.openBreakers(10_000 + BREAKER_FRESH_MS + 1)).toEqual([]);
    // Closed again: the next report carries no breaker.
    tally.apply(countsKey('a'), report(12_000));
    expect(tally.openBreakers(12_000)).toEqual([]);
    // A stopped worker's tombstone takes its breaker along; its counts stay in the total.
    tally.apply(countsKey('b'), report(13_000, { reason: 'ECONNREFUSED', since: 12_500 }));
    tally.apply(countsKey('b'), null);
    expect(tally.openBreakers(13_000)).toEqual([]);
    expect(tally.total()).toEqual({ delivered: 2, retried: 8, deadLettered: 0 });
  });

  it('tells counts keys from the group state and hold', () => {
    expect(isCountsKey(countsKey('w'))).toBe(true);
    expect(isCountsKey('state')).toBe(false);
    expect(isCountsKey('hold')).toBe(false);
  });
});
