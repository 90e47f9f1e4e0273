import { describe, expect, it } from 'vitest';
import { testBrokers, testKafka, uniqueName } from '../../../test-support/kafka.ts';
import {
  type IngestProcess,
  ingestProcesses,
  listeningUrl,
  metricSum,
  type PostResult,
  postOnNewConnection,
} from './support/ingest-process.ts';
import { untilReady, waitFor } from './support/service-harness.ts';
import { readTopic } from './support/topic-records.ts';

const kafka = testKafka();

const start = ingestProcesses();

function twoWorkers(topic: string, env: Record<string, string> = {}): IngestProcess {
  return start({
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_TOPIC: topic,
    INGEST_PORT: '0',
    INGEST_WORKERS: '2',
    LOG_LEVEL: 'debug',
    ...env,
  });
}

/** Two workers on a topic of their own, both listening, the service ready. */
async function twoReadyWorkers(prefix: string) {
  const topic = uniqueName(prefix);
  const started = twoWorkers(topic);
  const url = await listeningUrl(started);
  await waitFor(() => workerPids(started).length === 2, 60_000, 'two workers listening');
  await untilReady(url);
  return { topic, started, url };
}

/** Pids of the workers that logged "ingest listening" (the primary logs it without a worker id). */
function workerPids(started: IngestProcess): number[] {
  return started
    .lines()
    .filter((l) => l.msg === 'ingest listening' && l.worker !== undefined)
    .map((l) => l.pid ?? 0);
}

/** Pids of the processes that answered POST / (debug "request answered" lines). */
function answeringPids(started: IngestProcess): Set<number> {
  return new Set(
    started
      .lines()
      .filter((l) => l.msg === 'request answered' && l.path === '/')
      .map((l) => l.pid ?? 0),
  );
}

/** `concurrency` clients posting one record after another until stopped. */
function steadyLoad(url: string, concurrency: number, prefix: string) {
  const results: PostResult[] = [];
  let running = true;
  let n = 0;
  const clients = Array.from({ length: concurrency }, async () => {
    while (running) {
      const result = await postOnNewConnection(url, `${prefix}-${n++}`);
      results.push(result);
      // A refused connection (the service is gone) would otherwise spin.
      if (result.status === 'error') await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    results,
    async stop(): Promise<PostResult[]> {
      running = false;
      await Promise.all(clients);
      return results;
    },
  };
}

async function idsInTopic(topic: string): Promise<Set<string>> {
  return new Set((await readTopic(kafka, topic)).map((r) => r.headers.id ?? ''));
}

describe('ingest.workers', () => {
  it.each(['0', '-1', '65', 'many'])(
    'INGEST_WORKERS=%s: one config line, exit 2',
    async (value) => {
      const started = start({ INGEST_WORKERS: value });
      expect(await started.exited).toBe(2);
      const lines = started.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('ingest.workers');
      expect(lines[0]).toContain(value);
    },
  );

  it('spreads requests over both workers, aggregates /metrics, and every 202 is in Kafka', async () => {
    const { topic, started, url } = await twoReadyWorkers('workers-spread');

    const results: PostResult[] = [];
    for (let i = 0; i < 20; i++) results.push(await postOnNewConnection(url, `spread-${i}`));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(202));
    await waitFor(() => answeringPids(started).size === 2, 10_000, 'answers from both workers');
    expect([...answeringPids(started)].sort()).toEqual(workerPids(started).sort());

    // Each worker counted only its own share; the sum is the service's.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metricSum(metrics, 'ingest_http_requests_total', ['route="/"', 'status="202"'])).toBe(
      20,
    );
    expect(metricSum(metrics, 'ingest_kafka_ready')).toBe(1);

    const stored = await idsInTopic(topic);
    for (const r of results) expect(stored.has(r.id)).toBe(true);

    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('replaces a worker killed under load while the other keeps answering 202', async () => {
    const { topic, started, url } = await twoReadyWorkers('workers-kill');

    const load = steadyLoad(url, 2, 'kill');
    await waitFor(() => load.results.length >= 20, 30_000, '20 answers before the kill');
    const [victim] = workerPids(started);
    process.kill(victim ?? 0, 'SIGKILL');
    await waitFor(
      () => started.lines().some((l) => l.msg === 'worker died; replacing it'),
      30_000,
      'the primary noticing the death',
    );
    await waitFor(() => workerPids(started).length === 3, 90_000, 'a replacement listening');
    const afterReplacement = load.results.length;
    await waitFor(
      () => load.results.length >= afterReplacement + 20,
      30_000,
      '20 answers after the replacement',
    );
    const results = await load.stop();

    // Only what was in flight on the killed worker (one per client at most) may go unanswered;
    // the other worker was ready throughout, so nothing is 503.
    const errors = results.filter((r) => r.status === 'error');
    expect(errors.length).toBeLessThanOrEqual(2);
    expect(results.filter((r) => r.status !== 'error' && r.status !== 202)).toEqual([]);
    const replacement = workerPids(started)[2];
    await waitFor(
      async () => {
        await postOnNewConnection(url, `probe-${Date.now()}`);
        return answeringPids(started).has(replacement ?? 0);
      },
      30_000,
      'the replacement answering',
    );

    const stored = await idsInTopic(topic);
    for (const r of results.filter((x) => x.status === 202)) expect(stored.has(r.id)).toBe(true);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    // A replacement starts a whole process (tsx, Kafka connection) before it listens.
  }, 240_000);

  it('SIGTERM under load: exit 0 and every 202 is in Kafka', async () => {
    const topic = uniqueName('workers-stop');
    const started = twoWorkers(topic, { LOG_LEVEL: 'info' });
    const url = await listeningUrl(started);
    await untilReady(url);

    const load = steadyLoad(url, 4, 'stop');
    await waitFor(() => load.results.length >= 40, 30_000, '40 answers before the stop');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const results = await load.stop();

    const accepted = results.filter((r) => r.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(40);
    expect(
      results.filter((r) => r.status !== 'error' && r.status !== 202 && r.status !== 503),
    ).toEqual([]);
    const stored = await idsInTopic(topic);
    for (const r of accepted) expect(stored.has(r.id)).toBe(true);
    const messages = started.lines().map((l) => l.msg);
    expect(messages.filter((m) => m === 'ingest stopped')).toHaveLength(2);
    expect(messages).toContain('ingest workers stopped');
  });
});
