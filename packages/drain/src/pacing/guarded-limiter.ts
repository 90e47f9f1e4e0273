import { type Clock, type Config, type RateSetting, rateGuard } from '@kafka-throttle/common';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';

/**
 * Makes the rate limiter for each rate put in force (the configured one, then each one the
 * control topic switches to), its period lengthened by the guard so that the rate holds where
 * the destination counts arrivals, not only where workers count starts. The guard is sized for
 * each rate's own period, by the rule the configuration used for its period: a guard kept from
 * a 5 s period would cost a 100 ms period 10%, and one kept from 100 ms would leave 5 s short.
 */
export function guardedLimiters(
  configured: Config['rate'],
  clock: Clock,
): (rate: RateSetting) => RateLimiter {
  return (rate) =>
    createRateLimiter({
      messages: rate.messages,
      periodMs: rate.periodMs + rateGuard(rate.periodMs, configured.configuredMargin),
      burst: rate.burst,
      clock,
    });
}
