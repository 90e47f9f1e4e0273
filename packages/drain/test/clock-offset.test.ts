import { systemClock } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { offsetClock } from '../../../test-support/manual-clock.ts';
import { drainTestKafka } from './support/backlog.ts';
import { inProcessWorker } from './support/in-process.ts';
import { metric } from './support/metrics-text.ts';
import { waitFor } from './support/wait.ts';

const { backlog } = drainTestKafka('drain-clock-offset-test');

/** The worker's clock offset metrics, in ms; undefined until it has measured. */
async function offsetOf(
  port: number,
): Promise<{ offset: number; uncertainty: number } | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const offset = metric(text, 'drain_clock_offset_seconds');
  const uncertainty = metric(text, 'drain_clock_offset_uncertainty_seconds');
  return offset === undefined || uncertainty === undefined
    ? undefined
    : { offset: offset * 1000, uncertainty: uncertainty * 1000 };
}

/** A worker delivering a small backlog to the log sink on `clock`, its counts written often. */
async function measure(prefix: string, aheadMs: number) {
  const { env } = await backlog(prefix, { count: 40, partitions: 2, prefix });
  const started = inProcessWorker(
    {
      ...env,
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
      SINK: 'log',
    },
    { countsReportMs: 200 },
    offsetClock(systemClock, aheadMs),
  );
  await started.worker.start();
  try {
    const measured = await waitFor(
      async () => {
        const attempts = started.logs.filter((l) => l.msg === 'attempt').length;
        return attempts >= 20 ? await offsetOf(started.worker.port) : undefined;
      },
      60_000,
      'the clock offset measured on the counts writes of 20 deliveries',
    );
    return { measured, logs: started.logs };
  } finally {
    await started.worker.stop();
  }
}

const warning = 'clock off the Kafka cluster by more than half the skew budget; check NTP';

describe("a worker's clock against the Kafka cluster's", () => {
  it('measures a clock 400 ms ahead as about -400 ms, and warns that it is over half the budget', async () => {
    const { measured, logs } = await measure('clock-ahead', 400);
    console.log(
      `clock offset: 400 ms ahead measured as ${measured.offset.toFixed(1)} ± ${measured.uncertainty.toFixed(1)} ms`,
    );
    // The broker runs on this host, on its wall clock: only the injected 400 ms separate them.
    expect(Math.abs(measured.offset + 400)).toBeLessThanOrEqual(measured.uncertainty + 50);
    expect(logs.find((l) => l.msg === warning)).toMatchObject({ budgetMs: expect.any(Number) });
  }, 120_000);

  it('measures an unskewed clock near zero', async () => {
    const { measured } = await measure('clock-true', 0);
    console.log(
      `clock offset: an unskewed clock measured as ${measured.offset.toFixed(1)} ± ${measured.uncertainty.toFixed(1)} ms`,
    );
    expect(Math.abs(measured.offset)).toBeLessThanOrEqual(measured.uncertainty + 50);
  }, 120_000);
});
