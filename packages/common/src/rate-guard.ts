/**
 * The default of `rate.margin`: how much longer than the period drain spaces the uses of one
 * share of the rate, so that the promise holds where the destination counts it (arrivals), not
 * only where the workers count it (starts). Between the two lie, per request:
 * - the time from the permit to the request reaching the destination's event loop in another
 *   process (worker event loop, socket write, loopback or network, the destination's loop),
 *   which varies from one request to the next: measured by `pnpm bench:drain` (transit spread);
 * - timer lateness inside that path (a start is timed when the permit is granted);
 * - clock skew between the workers' hosts, which share a schedule laid on absolute time.
 * Each one can make two requests that started a period and a little apart arrive less than a
 * period apart. GUARD_MS covers their sum as measured and documented in the README ("The
 * guard"); it costs GUARD_MS / (period + GUARD_MS) of the rate, so it is capped at
 * MAX_GUARD_SHARE of short periods, where a user must size `rate.margin` for their network.
 */
export const GUARD_MS = 10;
export const MAX_GUARD_SHARE = 0.02;

export function defaultRateGuard(periodMs: number): number {
  return Math.min(GUARD_MS, MAX_GUARD_SHARE * periodMs);
}

/**
 * The guard for a rate's period, by the rule that sized it at start: the default for that
 * period, or `rate.margin` as configured. A start refuses a margin not shorter than the period;
 * a rate changed at run time cannot be refused by every worker, so there the margin is cut to
 * half the period (the group keeps two thirds of the rate rather than stalling).
 */
export function rateGuard(periodMs: number, configuredMs: number | undefined): number {
  if (configuredMs === undefined) return defaultRateGuard(periodMs);
  return configuredMs < periodMs ? configuredMs : periodMs / 2;
}
