import { type Clock, systemClock } from '@kafka-throttle/common';

/**
 * Epoch milliseconds that never jump: the wall clock as it was when the process started, plus
 * the monotonic time since. Pacing chains every permit to the one a period before; if the
 * wall clock were stepped back by NTP between the two, `Date.now()` would let the second come
 * early. Workers still agree on the grid to within how far their wall clocks differed when
 * they started (NTP keeps that to milliseconds).
 */
export const monotonicClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: systemClock.sleep,
};
