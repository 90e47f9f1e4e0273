import type { Clock } from '@kafka-throttle/common';

/**
 * A Clock that moves only when a test tells it to: the one manual clock of the repository, for
 * unit tests of anything that takes a Clock and for the pacing simulations.
 */
export interface ManualClock extends Clock {
  /**
   * Moves time to `t` at once (never backwards) and resolves every sleep whose time has come;
   * their continuations run later, as microtasks. What a discrete simulation needs.
   */
  set(t: number): void;
  /**
   * Moves time forward by `ms`, one due sleep at a time in time order, letting each woken
   * continuation run (and arm new sleeps) before the next: what code awaiting its timers needs.
   */
  advance(ms: number): Promise<void>;
  /** Sleeps not yet due: lets a test see that a timer is armed. */
  readonly pendingTimers: number;
}

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let now = startMs;
  let seq = 0;
  const sleepers = new Set<Sleeper>();

  function set(t: number): void {
    if (t < now) throw new RangeError(`a manual clock does not go back (from ${now} to ${t})`);
    now = t;
    for (const sleeper of [...sleepers].sort(byTime)) {
      if (sleeper.at <= now) sleeper.wake();
    }
  }

  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const sleeper: Sleeper = { at: now + Math.max(0, ms), seq: seq++, wake };
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
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await settle();
        const due = [...sleepers].filter((s) => s.at <= target).sort(byTime)[0];
        if (due === undefined) break;
        now = Math.max(now, due.at);
        due.wake();
      }
      now = Math.max(now, target);
      await settle();
    },
    get pendingTimers() {
      return sleepers.size;
    },
  };
}

const byTime = (a: Sleeper, b: Sleeper): number => a.at - b.at || a.seq - b.seq;

/** The same clock seen from a host whose time is `offsetMs` ahead (NTP skew). */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return {
    now: () => clock.now() + offsetMs,
    sleep: (ms, signal) => clock.sleep(ms, signal),
  };
}

/** Lets every queued promise continuation (and I/O callback already due) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
