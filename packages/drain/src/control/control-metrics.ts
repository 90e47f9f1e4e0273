import type { ClockOffset } from '@kafka-throttle/common';
import { Gauge, type Registry } from 'prom-client';
import type { AppliedControl } from './controlled-pacing.ts';

/** A gauge read at each scrape from `source`; absent while the source has nothing. */
function scrapedGauges<T>(registry: Registry, source: () => T | undefined) {
  return (name: string, help: string, value: (current: T) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const current = source();
        if (current === undefined) this.reset();
        else this.set(value(current));
      },
    });
  };
}

/** The control state this worker has applied, read at each scrape. */
export function registerControlMetrics(registry: Registry, applied: () => AppliedControl): void {
  const gauge = scrapedGauges(registry, applied);
  gauge('drain_control_ready', '1 once the control topic has been read', (a) => (a.ready ? 1 : 0));
  gauge('drain_control_paused', '1 while the group is paused', (a) => (a.paused ? 1 : 0));
  gauge('drain_control_version', 'version of the control state applied', (a) => a.version);
  gauge(
    'drain_control_rate_messages',
    'group rate in force: messages per period',
    (a) => a.rate.messages,
  );
  gauge(
    'drain_control_rate_period_seconds',
    'group rate in force: the period',
    (a) => a.rate.periodMs / 1000,
  );
  gauge('drain_control_rate_burst', 'group rate in force: burst', (a) => a.rate.burst);
  gauge(
    'drain_control_hold_until_seconds',
    'epoch seconds before which no attempt starts (0: no hold)',
    (a) => a.holdUntil / 1000,
  );
}

/** This worker's clock offset from the Kafka cluster's, once measured (absent before). */
export function registerClockMetrics(
  registry: Registry,
  offset: () => ClockOffset | undefined,
): void {
  const gauge = scrapedGauges(registry, offset);
  gauge(
    'drain_clock_offset_seconds',
    "the Kafka cluster's clock minus this worker's (positive: this clock is behind)",
    (o) => o.offsetMs / 1000,
  );
  gauge(
    'drain_clock_offset_uncertainty_seconds',
    'the offset is within this much of the truth (half the best recent round trip)',
    (o) => o.uncertaintyMs / 1000,
  );
}
