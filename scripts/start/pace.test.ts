import { describe, expect, it } from 'vitest';
import { paceLine, parseDrainMetrics, RecentDeliveries, worthShowing } from './pace.ts';

const METRICS = `# HELP drain_partition_lag Records not yet committed per assigned partition
# TYPE drain_partition_lag gauge
drain_partition_lag{partition="0"} 40
drain_partition_lag{partition="1"} 43
# TYPE drain_dead_letters_total counter
drain_dead_letters_total{reason="rejected"} 2
drain_dead_letters_total{reason="attempts"} 1
# TYPE drain_share_per_period gauge
drain_share_per_period 5
drain_deliveries_total{outcome="delivered"} 17
`;

describe('parseDrainMetrics', () => {
  it('sums the backlog over partitions and dead letters over reasons, and reads the share', () => {
    expect(parseDrainMetrics(METRICS)).toEqual({ backlog: 83, deadLetters: 3, share: 5 });
  });

  it('reads a worker that owns no partition yet as no backlog and no share', () => {
    expect(parseDrainMetrics('# nothing yet\n')).toEqual({
      backlog: 0,
      deadLetters: 0,
      share: undefined,
    });
  });
});

describe('paceLine', () => {
  const now = new Date(2026, 0, 2, 12, 0, 10, 4);

  it('says what was delivered in the last period against the limit, the backlog and dead letters', () => {
    const window = {
      periodMs: 5000,
      delivered: 5,
      configuredLimit: 5,
      numbers: { backlog: 83, deadLetters: 0, share: 5 },
    };
    expect(paceLine(window, now)).toBe(
      '12:00:10.004 last 5s: 5 delivered (limit 5), backlog 83, dead letters 0',
    );
    expect(worthShowing(window)).toBe(true);
  });

  it('uses the live share (a rate changed at run time) and the configured rate without one', () => {
    const numbers = { backlog: 1, deadLetters: 4, share: 2.5 };
    const window = { periodMs: 250, delivered: 2, configuredLimit: 5, numbers };
    expect(paceLine(window, now)).toBe(
      '12:00:10.004 last 250ms: 2 delivered (limit 2.50), backlog 1, dead letters 4',
    );
    expect(paceLine({ ...window, periodMs: 60_000, numbers: { ...numbers, share: 0 } }, now)).toBe(
      '12:00:10.004 last 1m: 2 delivered (limit 5), backlog 1, dead letters 4',
    );
  });

  it('is not worth showing when nothing waits and nothing was delivered', () => {
    const numbers = { backlog: 0, deadLetters: 3, share: 5 };
    expect(worthShowing({ periodMs: 5000, delivered: 0, configuredLimit: 5, numbers })).toBe(false);
    expect(worthShowing({ periodMs: 5000, delivered: 1, configuredLimit: 5, numbers })).toBe(true);
  });
});

describe('RecentDeliveries', () => {
  it('counts the deliveries stamped within the period that ends now', () => {
    const recent = new RecentDeliveries(10_000);
    for (const time of [1000, 4000, 5000, 6000, 9000, 9999]) recent.record(time);
    expect(recent.countWithin(5000, 10_000)).toBe(3); // 6000, 9000, 9999: (5000, 10000]
    expect(recent.countWithin(5000, 20_000)).toBe(0);
  });
});
