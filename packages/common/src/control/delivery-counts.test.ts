import { describe, expect, it } from 'vitest';
import { countsKey, createCountsTally, isCountsKey } from './delivery-counts.ts';

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

  it('tells counts keys from the group state and hold', () => {
    expect(isCountsKey(countsKey('w'))).toBe(true);
    expect(isCountsKey('state')).toBe(false);
    expect(isCountsKey('hold')).toBe(false);
  });
});
