export interface HoldChange {
  until: number;
  reason: string;
}

export interface Hold {
  /**
   * No attempt of this worker starts before `at` (epoch ms of the worker's clock). A hold only
   * ever grows: an earlier time than the current one changes nothing.
   */
  holdUntil(at: number, reason: string): void;
  /** The time attempts may start again (0 or past: now). */
  until(): number;
  status(now: number): { until: number; reason: string } | undefined;
  /** Called when the hold is set or extended (logs, a group-wide hold, waking the dispatcher). */
  onChange(listener: (change: HoldChange) => void): void;
}

/**
 * A pause of the whole worker until a given time: a destination's Retry-After is about the
 * destination, not about the one record that got it, so no partition may start an attempt
 * before it. Whoever learns such a time (an answer, later a group-wide control record) calls
 * `holdUntil`; the dispatcher asks `until` before every attempt.
 */
export function createHold(): Hold {
  const listeners: ((change: HoldChange) => void)[] = [];
  let until = 0;
  let reason = '';
  return {
    holdUntil(at, why) {
      if (at <= until) return;
      until = at;
      reason = why;
      for (const listener of listeners) listener({ until, reason });
    },
    until: () => until,
    status: (now) => (until > now ? { until, reason } : undefined),
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
