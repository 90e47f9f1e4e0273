import type { ControlState } from '@kafka-throttle/common';

/** A period in the words an operator types: "1s", "250ms", "2m". */
export function formatPeriod(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The control state as the admin API shows it: times as ISO text, periods as durations. */
export function describeControl(state: ControlState, now: number) {
  const { desired, hold } = state;
  return {
    state: {
      paused: desired.paused,
      version: desired.version,
      changedAt: desired.changedAt > 0 ? new Date(desired.changedAt).toISOString() : null,
      reason: desired.reason,
      source: state.source,
    },
    rate: {
      messages: desired.rate.messages,
      period: formatPeriod(desired.rate.periodMs),
      periodMs: desired.rate.periodMs,
      burst: desired.rate.burst,
    },
    hold:
      hold === undefined
        ? null
        : {
            active: hold.until > now,
            until: new Date(hold.until).toISOString(),
            reason: hold.reason,
            by: hold.by,
          },
  };
}
