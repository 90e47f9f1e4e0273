import type { Clock } from '@kafka-throttle/common';

export interface InFlight {
  begin(): void;
  end(): void;
  count(): number;
  /** Resolves true once nothing is in flight, or false at `deadline` (clock time). */
  idle(deadline: number): Promise<boolean>;
}

/**
 * The attempts under way (readying, waiting for a permit, sent, dead-lettering): a gauge for
 * metrics, and what a graceful stop waits for.
 */
export function createInFlight(clock: Clock): InFlight {
  let count = 0;
  let wakeIdle: (() => void) | undefined;

  return {
    begin() {
      count++;
    },
    end() {
      count--;
      if (count === 0) wakeIdle?.();
    },
    count: () => count,
    idle(deadline) {
      if (count === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = new AbortController();
        wakeIdle = () => {
          timer.abort();
          resolve(true);
        };
        void clock.sleep(Math.max(0, deadline - clock.now()), timer.signal).then(() => {
          if (!timer.signal.aborted) resolve(count === 0);
        });
      });
    },
  };
}
