import { describe, expect, it } from 'vitest';
import { createManualClock, offsetClock } from './manual-clock.ts';

describe('createManualClock', () => {
  it('wakes a sleeper only once time has been moved past its wake-up time', async () => {
    const clock = createManualClock(1000);
    let woke = false;
    const sleeping = clock.sleep(50).then(() => {
      woke = true;
    });
    clock.set(1049);
    await Promise.resolve();
    expect(woke).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    clock.set(1050);
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('advance wakes sleepers in time order, each at its own time, and runs what they arm', async () => {
    const clock = createManualClock(0);
    const seen: Array<[string, number]> = [];
    void clock.sleep(30).then(() => seen.push(['b', clock.now()]));
    void clock.sleep(10).then(async () => {
      seen.push(['a', clock.now()]);
      await clock.sleep(5);
      seen.push(['a2', clock.now()]);
    });
    await clock.advance(100);
    expect(seen).toEqual([
      ['a', 10],
      ['a2', 15],
      ['b', 30],
    ]);
    expect(clock.now()).toBe(100);
  });

  it('wakes a sleeper at once when its signal aborts, and never goes back', async () => {
    const clock = createManualClock(0);
    const abort = new AbortController();
    const sleeping = clock.sleep(10_000, abort.signal);
    abort.abort();
    await sleeping;
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(() => clock.set(-1)).toThrow(RangeError);
  });

  it('offsetClock shows the same time from a host that is ahead', () => {
    const clock = createManualClock(500);
    const ahead = offsetClock(clock, 2.5);
    clock.set(510);
    expect(ahead.now()).toBe(512.5);
  });
});
