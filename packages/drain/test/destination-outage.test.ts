import { backoffDelay } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { drainTestKafka, type TestTopic } from './support/backlog.ts';
import { type Destination, type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker, type LogRecord, whileDraining } from './support/in-process.ts';
import { recordCount } from './support/topics.ts';
import { waitFor } from './support/wait.ts';

const { admin, backlog } = drainTestKafka('drain-outage-test');

const PARTITIONS = 6;
const COUNT = 36;
/** Far beyond the two seconds five attempts with the default backoff used to last. */
const OUTAGE_MS = 9000;
const OPENED = 'destination breaker open: every partition held, probing the destination';
const CLOSED = 'destination breaker closed: delivering at the configured rate again';
const FAILED = [
  'attempt failed; will retry',
  'attempt failed while the destination breaker is open; not counted, will retry',
];

/**
 * Most failed attempts an outage of `ms` may cost with the default probe schedule (200 ms
 * doubling up to 30 s): one per partition before the breaker could know (each partition's head
 * fails once, at most, before three of them have), then the probes that fit in the outage, plus
 * one that may straddle its end.
 */
function failedAttemptsBound(ms: number): number {
  const schedule = { initialMs: 200, maxMs: 30_000, jitter: 'none' as const };
  let probes = 0;
  for (let waited = 0; waited <= ms; probes++) waited += backoffDelay(schedule, probes + 1);
  return PARTITIONS + probes + 1;
}

const setUp = (name: string) =>
  backlog(name, { count: COUNT, partitions: PARTITIONS, prefix: name });

function workerFor(names: TestTopic, url: string) {
  // Defaults for everything about retries: 5 attempts, 200 ms backoff base, 30 s max.
  return inProcessWorker({
    ...names.env,
    RATE_MESSAGES: '12',
    RATE_PERIOD: '1s',
    SINK: 'http',
    SINK_URL: url,
  });
}

const deliveredIds = (destination: Destination): Set<string> =>
  new Set(destination.arrivals.filter((a) => a.status === 200).map((a) => a.id));

const logged = (logs: LogRecord[], msg: string): LogRecord[] => logs.filter((l) => l.msg === msg);

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('a destination that is down, then back', () => {
  it('503 without Retry-After for 9 s: the breaker holds and probes; everything delivered, nothing dead-lettered', async () => {
    const names = await setUp('down503');
    let downUntil = Number.POSITIVE_INFINITY;
    const destination = await startDestination((arrival): Reply => {
      if (downUntil === Number.POSITIVE_INFINITY) downUntil = arrival.at + OUTAGE_MS;
      return arrival.at < downUntil ? { status: 503, body: 'restarting' } : { status: 200 };
    });
    const { worker, logs } = workerFor(names, destination.url);
    const metrics = await whileDraining(worker, destination, async () => {
      await waitFor(() => logged(logs, OPENED).length > 0, 30_000, 'breaker open');
      const whileDown = await readyz(worker.port);
      // Ready all the same: the worker is fine, the destination is not.
      expect(whileDown.status).toBe(200);
      expect(whileDown.body.breaker).toMatchObject({ state: 'open' });
      expect(String((whileDown.body.breaker as { reason: string }).reason)).toContain('HTTP 503');
      await destination.until(() => deliveredIds(destination).size === COUNT, 60_000);
      return await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    });
    const failed = destination.arrivals.filter((a) => a.status === 503);
    console.log(
      `503 outage of ${OUTAGE_MS} ms: ${failed.length} failed attempts (bound ${failedAttemptsBound(OUTAGE_MS)}), ${destination.arrivals.length} arrivals, breaker open for ${logged(logs, CLOSED)[0]?.openForMs} ms with ${logged(logs, CLOSED)[0]?.probes} probes`,
    );
    expect(failed.length).toBeLessThanOrEqual(failedAttemptsBound(OUTAGE_MS));
    expect(await recordCount(admin, names.dlq)).toBe(0);
    expect(logged(logs, OPENED)).toHaveLength(1);
    expect(String(logged(logs, OPENED)[0]?.reason)).toContain('HTTP 503');
    expect(logged(logs, CLOSED)).toHaveLength(1);
    expect(Number(logged(logs, CLOSED)[0]?.openForMs)).toBeGreaterThan(OUTAGE_MS / 2);
    expect(metrics).toContain('drain_breaker_transitions_total{to="open"} 1');
    expect(metrics).toContain('drain_breaker_transitions_total{to="closed"} 1');
    expect(metrics).toContain('drain_breaker_open 0');
    expect(metrics).not.toContain('drain_deliveries_total{outcome="dead_lettered"} 1');
  }, 120_000);

  it('connection refused for 9 s (a server restarting): everything delivered, nothing dead-lettered', async () => {
    const names = await setUp('refused');
    const first = await startDestination();
    const port = Number(new URL(first.url).port);
    await first.close();
    const { worker, logs } = workerFor(names, first.url);
    await worker.start();
    let back: Destination | undefined;
    try {
      await waitFor(() => logged(logs, OPENED).length > 0, 30_000, 'breaker open');
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      const failedWhileDown = FAILED.reduce((n, msg) => n + logged(logs, msg).length, 0);
      back = await startDestination(() => ({ status: 200 }), { port });
      const destination = back;
      await destination.until(() => deliveredIds(destination).size === COUNT, 60_000);
      console.log(
        `connection refused for ${OUTAGE_MS} ms after the breaker opened: ${failedWhileDown} failed attempts (bound ${failedAttemptsBound(OUTAGE_MS + 1000)})`,
      );
      expect(failedWhileDown).toBeLessThanOrEqual(failedAttemptsBound(OUTAGE_MS + 1000));
      expect(String(logged(logs, OPENED)[0]?.reason)).toContain('ECONNREFUSED');
    } finally {
      await worker.stop();
      await back?.close();
    }
    expect(await recordCount(admin, names.dlq)).toBe(0);
    expect(logged(logs, CLOSED)).toHaveLength(1);
  }, 120_000);

  it('401 for everything is a configuration problem: nothing dead-lettered, the breaker says why', async () => {
    const names = await setUp('unauth');
    let fixed = false;
    const destination = await startDestination(
      (): Reply => (fixed ? { status: 200 } : { status: 401, body: '{"error":"bad token"}' }),
    );
    const { worker, logs } = workerFor(names, destination.url);
    await whileDraining(worker, destination, async () => {
      await waitFor(() => logged(logs, OPENED).length > 0, 30_000, 'breaker open');
      expect(String(logged(logs, OPENED)[0]?.reason)).toContain('HTTP 401');
      const whileBroken = await readyz(worker.port);
      expect(whileBroken.body.breaker).toMatchObject({ state: 'open' });
      expect(String((whileBroken.body.breaker as { reason: string }).reason)).toContain('HTTP 401');
      // Well past what five attempts would have taken.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(await recordCount(admin, names.dlq)).toBe(0);
      fixed = true;
      await destination.until(() => deliveredIds(destination).size === COUNT, 60_000);
    });
    expect(await recordCount(admin, names.dlq)).toBe(0);
    console.log(
      `401 for everything: ${destination.arrivals.filter((a) => a.status === 401).length} attempts answered 401, none dead-lettered`,
    );
  }, 120_000);
});
