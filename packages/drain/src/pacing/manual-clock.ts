import type { Clock } from '@kafka-throttle/common';

/** A Clock that only moves when told to, for tests and simulations of pacing. */
export interface ManualClock extends Clock {
  /** Moves time to `t` (never backwards) and wakes every sleeper whose time has come. */
  set(t: number): void;
  advance(ms: number): void;
}

export function createManualClock(startMs: number): ManualClock {
  let now = startMs;
  const sleepers = new Set<{ at: number; wake: () => void }>();

  function set(t: number): void {
    if (t < now) throw new RangeError(`a manual clock does not go back (from ${now} to ${t})`);
    now = t;
    for (const sleeper of sleepers) {
      if (sleeper.at <= now) sleeper.wake();
    }
  }

  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted || ms <= 0) return resolve();
        const sleeper = { at: now + ms, wake };
        sleepers.add(sleeper);
        signal?.addEventListener('abort', wake, { once: true });
        function wake(): void {
          sleepers.delete(sleeper);
          signal?.removeEventListener('abort', wake);
          resolve();
        }
      });
    },
    set,
    advance: (ms) => set(now + ms),
  };
}

/** The same clock seen from a host whose time is `offsetMs` ahead (NTP skew). */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return {
    now: () => clock.now() + offsetMs,
    sleep: (ms, signal) => clock.sleep(ms, signal),
  };
}
