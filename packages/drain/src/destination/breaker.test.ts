import { describe, expect, it } from 'vitest';
import type { SinkOutcome } from '../sinks/sink.ts';
import { type BreakerChange, createBreaker } from './breaker.ts';

const ok: SinkOutcome = { kind: 'delivered', status: 200 };
const down: SinkOutcome = { kind: 'retry', status: 503, error: 'HTTP 503' };
const refused: SinkOutcome = { kind: 'retry', error: 'ECONNREFUSED connect' };
const unauthorized: SinkOutcome = { kind: 'reject', status: 401, error: 'HTTP 401' };
const invalid: SinkOutcome = { kind: 'reject', status: 422, error: 'HTTP 422' };

/** A breaker over 6 partitions, probing at 100, 200, 400, 800, 1000, 1000… ms. */
function breakerOf(records = 3, partitions = 6) {
  const changes: BreakerChange[] = [];
  const breaker = createBreaker({
    records,
    partitions: () => partitions,
    probe: { initialMs: 100, maxMs: 1000, jitter: 'none' },
  });
  breaker.onChange((change) => changes.push(change));
  return { breaker, changes };
}

/** One record per partition, as the heads of a worker's partitions are. */
const heads = [0, 1, 2, 3, 4, 5].map((n) => ({ n }));

describe('destination breaker', () => {
  it('opens when different records fail in a row, and says why', () => {
    const { breaker, changes } = breakerOf();
    expect(breaker.observe(0, heads[0] as object, down, 1000)).toBe('message');
    expect(breaker.observe(1, heads[1] as object, refused, 1001)).toBe('message');
    expect(breaker.openAt(1002)).toBe(1002);
    expect(breaker.observe(2, heads[2] as object, down, 1002)).toBe('destination');
    expect(changes).toEqual([
      {
        state: 'open',
        reason: '3 records failed in a row, the last with HTTP 503',
        at: 1002,
        nextProbeAt: 1102,
      },
    ]);
    expect(breaker.status()).toMatchObject({ state: 'open', nextProbeAt: 1102, probes: 0 });
    // Attempts in flight when it opened are not their records' fault either.
    expect(breaker.observe(3, heads[3] as object, down, 1003)).toBe('destination');
  });

  it('does not open for one record failing again and again (a poison message)', () => {
    const { breaker, changes } = breakerOf();
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(breaker.observe(0, heads[0] as object, down, 1000 + attempt)).toBe('message');
    }
    expect(changes).toEqual([]);
  });

  it('a success between failures starts the count again', () => {
    const { breaker, changes } = breakerOf();
    breaker.observe(0, heads[0] as object, down, 1000);
    breaker.observe(1, heads[1] as object, down, 1001);
    expect(breaker.observe(2, heads[2] as object, ok, 1002)).toBe('none');
    breaker.observe(3, heads[3] as object, down, 1003);
    breaker.observe(4, heads[4] as object, down, 1004);
    expect(changes).toEqual([]);
  });

  it('while open lets one probe through at a time, backing off to the maximum', () => {
    const { breaker, changes } = breakerOf();
    for (const p of [0, 1, 2]) breaker.observe(p, heads[p] as object, down, 0);
    expect(breaker.openAt(50)).toBe(100);
    expect(breaker.allows(3)).toBe(false);
    const probeTimes: number[] = [];
    let now = 100;
    for (let probe = 0; probe < 7; probe++) {
      now = breaker.openAt(now);
      probeTimes.push(now);
      const partition = probe % 6;
      breaker.begin(partition);
      // Only the probe may go; nothing else is readied until it ends.
      expect(breaker.allows(partition)).toBe(true);
      expect(breaker.allows((partition + 1) % 6)).toBe(false);
      expect(breaker.openAt(now)).toBe(Number.POSITIVE_INFINITY);
      expect(breaker.observe(partition, heads[partition] as object, down, now + 5)).toBe(
        'destination',
      );
      now += 5;
    }
    // 100 after opening, then 200, 400, 800 after each failed probe, then capped at 1000.
    expect(probeTimes).toEqual([100, 305, 710, 1515, 2520, 3525, 4530]);
    expect(breaker.status()).toMatchObject({ state: 'open', probes: 7, reason: 'HTTP 503' });
    // The opening, then one change per failed probe naming when the next may go (the times a
    // group-wide hold lasts until).
    expect(changes.map((c) => [c.probeFailed ?? false, c.nextProbeAt])).toEqual([
      [false, 100],
      ...probeTimes.slice(1).map((at) => [true, at]),
      [true, 4530 + 5 + 1000],
    ]);
  });

  it('closes when a probe succeeds, and reports how long it was open', () => {
    const { breaker, changes } = breakerOf();
    for (const p of [0, 1, 2]) breaker.observe(p, heads[p] as object, down, 0);
    breaker.begin(4);
    expect(breaker.observe(4, heads[4] as object, ok, 120)).toBe('none');
    expect(breaker.openAt(121)).toBe(121);
    expect(breaker.allows(0)).toBe(true);
    expect(changes[1]).toEqual({
      state: 'closed',
      reason: 'probe answered HTTP 200',
      at: 120,
      openForMs: 120,
      probes: 1,
    });
  });

  it('a probe given up unsent is owed again and is not counted', () => {
    const { breaker } = breakerOf();
    for (const p of [0, 1, 2]) breaker.observe(p, heads[p] as object, down, 0);
    breaker.begin(3);
    breaker.cancelled(3);
    expect(breaker.openAt(100)).toBe(100);
    expect(breaker.status().probes).toBe(0);
  });

  it('a verdict on one record shows the destination answers: it closes, the record is blamed', () => {
    const { breaker, changes } = breakerOf();
    for (const p of [0, 1, 2]) breaker.observe(p, heads[p] as object, down, 0);
    breaker.begin(3);
    expect(breaker.observe(3, heads[3] as object, invalid, 100)).toBe('message');
    expect(changes.map((c) => c.state)).toEqual(['open', 'closed']);
  });

  it('401 for everything is the destination: it opens, naming the answer', () => {
    const { breaker, changes } = breakerOf();
    expect(breaker.observe(0, heads[0] as object, unauthorized, 0)).toBe('unsure');
    expect(breaker.observe(1, heads[1] as object, unauthorized, 1)).toBe('unsure');
    expect(breaker.observe(2, heads[2] as object, unauthorized, 2)).toBe('destination');
    expect(changes[0]?.reason).toBe('3 records failed in a row, the last with HTTP 401');
  });

  it('401 for one record while others are delivered is about that record', () => {
    const { breaker } = breakerOf();
    expect(breaker.observe(0, heads[0] as object, unauthorized, 0)).toBe('unsure');
    breaker.observe(1, heads[1] as object, ok, 1);
    expect(breaker.observe(0, heads[0] as object, unauthorized, 2)).toBe('message');
  });

  it('needs at least two records, and no more than the partitions owned', () => {
    const single = breakerOf(3, 1);
    single.breaker.observe(0, heads[0] as object, down, 0);
    expect(single.changes).toEqual([]);
    // The next record of the same partition failing too: two records, the destination.
    expect(single.breaker.observe(0, heads[1] as object, down, 1)).toBe('destination');
    const two = breakerOf(5, 2);
    two.breaker.observe(0, heads[0] as object, down, 0);
    expect(two.breaker.observe(1, heads[1] as object, down, 1)).toBe('destination');
  });
});
