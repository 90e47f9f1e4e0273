import { describe, expect, it } from 'vitest';
import { createManualClock, offsetClock } from './manual-clock.ts';

describe('createManualClock', () => {
  it('wakes a sleeper only once time has been moved past its wake-up time', async () => {
    const clock = createManualClock(1000);
    let woke = false;
    const sleeping = clock.sleep(50).then(() => {
      woke = true;
    });
    clock.advance(49);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.set(1050);
    await sleeping;
    expect(woke).toBe(true);
  });

  it('wakes a sleeper at once when its signal aborts, and never goes back', async () => {
    const clock = createManualClock(0);
    const abort = new AbortController();
    const sleeping = clock.sleep(10_000, abort.signal);
    abort.abort();
    await sleeping;
    expect(clock.now()).toBe(0);
    expect(() => clock.set(-1)).toThrow(RangeError);
  });

  it('offsetClock shows the same time from a host that is ahead', () => {
    const clock = createManualClock(500);
    const ahead = offsetClock(clock, 2.5);
    clock.advance(10);
    expect(ahead.now()).toBe(512.5);
  });
});
