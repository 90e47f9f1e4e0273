import { describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/kafka/broker.ts';
import { testBrokers, uniqueName } from '../../../test-support/kafka.ts';
import { ingestProcesses, listeningUrl } from './support/ingest-process.ts';
import { postRecord, untilReady } from './support/service-harness.ts';

const runIngest = ingestProcesses();

describe('pnpm ingest (main.ts)', () => {
  it('exits 2 naming the key when the configuration is invalid', async () => {
    const started = runIngest({ INGEST_PORT: 'eighty' });
    expect(await started.exited).toBe(2);
    expect(started.stderr()).toContain('ingest.port');
  });

  it.each([
    ['RATE_MESSAGES', '9007199254740993', 'rate.messages'],
    ['KAFKA_TOPIC', '..', 'kafka.topic'],
    ['KAFKA_BROKERS', '127.0.0.1:99999', 'kafka.brokers'],
    ['NODE_ENV', '../../../tmp/x', 'NODE_ENV'],
  ])('exits 2 with one line, no stack trace, for %s=%s', async (name, value, key) => {
    const started = runIngest({ [name]: value });
    expect(await started.exited).toBe(2);
    const lines = started.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${key}: must be .*, got `));
  });

  it('stays up without Kafka, answering 503, and exits 0 on SIGTERM', async () => {
    const nobody = await freePort();
    const started = runIngest({
      KAFKA_BROKERS: `127.0.0.1:${nobody}`,
      INGEST_PORT: '0',
      INGEST_ACK_TIMEOUT: '1s',
    });
    const url = await listeningUrl(started);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const answer = await postRecord(url, 'no-kafka', '{"a":1}');
    expect(answer.status).toBe(503);
    expect(answer.json.error?.code).toBe('kafka_unavailable');
    expect(started.child.exitCode).toBeNull();

    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const messages = started.lines().map((l) => l.msg);
    expect(messages).toContain('stopping');
    expect(messages).toContain('ingest stopped');
  });

  it('accepts records from a real broker and exits 0 on SIGINT', async () => {
    const started = runIngest({
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('main'),
      INGEST_PORT: '0',
    });
    const url = await listeningUrl(started);
    await untilReady(url);
    expect((await postRecord(url, 'from-main', '{"main":true}')).status).toBe(202);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain('nodejs_eventloop_lag_seconds');

    started.child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    // One info line per start and stop; request lines only at debug level.
    const info = started.lines().filter((l) => (l.level ?? 0) >= 30 && l.msg?.includes('request'));
    expect(info).toEqual([]);
  });
});
