import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testKafkaWithAdmin, uniqueName } from '../../../test-support/kafka.ts';
import { topicWithBacklog } from './support/backlog.ts';
import { startDestination } from './support/destination.ts';
import { inProcessWorker, whileDraining } from './support/in-process.ts';
import { tampered, type Verdict, verifies } from './support/verifying-destination.ts';
import { spawnWorker, workerEnv } from './support/worker-process.ts';

const { kafka, admin } = testKafkaWithAdmin('drain-sink-auth-test');

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

async function backlog(prefix: string, count: number) {
  const { topic, produced } = await topicWithBacklog(kafka, admin, prefix, {
    count,
    partitions: 2,
    prefix,
  });
  return { topic, ids: produced.map((p) => p.id) };
}

const fast = {
  RATE_MESSAGES: '20',
  RATE_PERIOD: '1s',
  SINK_BACKOFF_BASE: '100ms',
  SINK_BACKOFF_MAX: '300ms',
  SINK: 'http',
};

describe('signed deliveries (Standard Webhooks)', () => {
  it('verify on first attempts and on retries, and a tampered body never does', async () => {
    const secret = newSecret();
    const { topic, ids } = await backlog('signed', 6);
    const verdicts: Verdict[] = [];
    // Refuses what does not verify, as a real receiver would (then it would be dead-lettered),
    // and answers 503 to every first attempt so that each record is also signed on a retry.
    const destination = await startDestination((arrival) => {
      const valid = verifies(secret, arrival);
      verdicts.push({
        id: arrival.id,
        attempt: arrival.attempt,
        secret: 0,
        valid,
        tamperedValid: verifies(secret, arrival, tampered(arrival.body)),
        timestamp: Number(arrival.headers['webhook-timestamp']),
        at: arrival.at,
      });
      if (!valid) return { status: 401, body: '{"error":"bad signature"}' };
      return { status: arrival.attempt === 1 ? 503 : 200 };
    });
    const { worker, logs } = inProcessWorker({
      ...fast,
      KAFKA_TOPIC: topic,
      DRAIN_GROUP: uniqueName('signed-group'),
      SINK_URL: destination.url,
      SINK_SIGNING_SECRET: secret,
    });
    await whileDraining(worker, destination, async () => {
      await destination.until(
        (arrivals) => new Set(arrivals.filter((a) => a.status === 200).map((a) => a.id)).size === 6,
        45_000,
      );
    });
    // Each record was signed on a first attempt and on a retry. It may have had more arrivals:
    // once every first attempt fails the breaker can open, and an attempt refused while it is
    // open is not counted against its record, so that record goes out again as attempt 1.
    const attemptsOf = (id: string): number[] =>
      verdicts.filter((v) => v.id === id).map((v) => v.attempt);
    expect(new Set(verdicts.map((v) => v.id))).toEqual(new Set(ids));
    for (const id of ids) {
      expect(attemptsOf(id), id).toContain(1);
      expect(Math.max(...attemptsOf(id)), id).toBeGreaterThanOrEqual(2);
    }
    for (const verdict of verdicts) {
      expect(verdict).toMatchObject({ valid: true, tamperedValid: false });
      // The attempt's own time, in seconds: a retry is not stamped with the first attempt's.
      expect(Math.abs(verdict.timestamp - verdict.at / 1000)).toBeLessThan(2);
    }
    for (const arrival of destination.arrivals) {
      expect(arrival.headers['webhook-id']).toBe(arrival.id);
    }
    expect(logs.filter((l) => l.msg === 'dead-lettered')).toEqual([]);
  }, 120_000);

  it('with two secrets, a destination that knows only one, then only the other, verifies all', async () => {
    const [oldSecret, newSecret_] = [newSecret(), newSecret()];
    const { topic, ids } = await backlog('rotate', 8);
    const verdicts: Verdict[] = [];
    // The receiver rotates half-way: the first four arrivals it checks with the old secret only,
    // the rest with the new one only.
    const destination = await startDestination((arrival, arrivals) => {
      const secret = arrivals.length <= 4 ? 0 : 1;
      const valid = verifies(secret === 0 ? oldSecret : newSecret_, arrival);
      verdicts.push({
        id: arrival.id,
        attempt: arrival.attempt,
        secret,
        valid,
        tamperedValid: false,
        timestamp: Number(arrival.headers['webhook-timestamp']),
        at: arrival.at,
      });
      return valid ? { status: 200 } : { status: 401 };
    });
    const { worker, logs } = inProcessWorker({
      ...fast,
      KAFKA_TOPIC: topic,
      DRAIN_GROUP: uniqueName('rotate-group'),
      SINK_URL: destination.url,
      SINK_SIGNING_SECRET: `${oldSecret} ${newSecret_}`,
    });
    await whileDraining(worker, destination, async () => {
      await destination.until((arrivals) => arrivals.length >= 8, 45_000);
    });
    expect(verdicts.map((v) => v.id).sort()).toEqual([...ids].sort());
    expect(verdicts.filter((v) => v.secret === 0 && v.valid)).toHaveLength(4);
    expect(verdicts.filter((v) => v.secret === 1 && v.valid)).toHaveLength(4);
    expect(logs.filter((l) => l.msg === 'dead-lettered')).toEqual([]);
  }, 120_000);
});

describe('credentials and custom headers', () => {
  it('reach the destination and never appear in the worker’s output', async () => {
    const password = `pw:${randomBytes(6).toString('hex')}`;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    const bearer = `tok-${randomBytes(8).toString('hex')}`;
    const secret = newSecret();
    const basic = `Basic ${Buffer.from(`ops@example:${password}`).toString('base64')}`;
    const { topic } = await backlog('creds', 4);
    const destination = await startDestination((arrival) => {
      const { authorization } = arrival.headers;
      if (authorization !== basic || arrival.headers['x-api-key'] !== apiKey) {
        return { status: 401, body: '{"error":"who are you"}' };
      }
      // One retry and one dead letter, so that the worker's error paths are in its output too.
      if (arrival.id === 'creds-0' && arrival.attempt === 1) return { status: 503 };
      if (arrival.id === 'creds-1') return { status: 422, body: '{"error":"no"}' };
      return { status: 200 };
    });
    const url = destination.url.replace(
      'http://',
      `http://${encodeURIComponent('ops@example')}:${encodeURIComponent(password)}@`,
    );
    const worker = spawnWorker(
      'creds',
      workerEnv({
        ...fast,
        LOG_LEVEL: 'debug',
        KAFKA_TOPIC: topic,
        DRAIN_GROUP: uniqueName('creds-group'),
        SINK_URL: url,
        SINK_HEADERS: JSON.stringify({ 'X-Api-Key': apiKey, 'X-Tenant': bearer }),
        SINK_SIGNING_SECRET: secret,
      }),
    );
    try {
      await destination.until(
        (arrivals) =>
          arrivals.filter((a) => a.status === 200).length === 3 &&
          arrivals.some((a) => a.status === 422),
        60_000,
      );
      await worker.waitForLog('dead-lettered', 30_000);
    } finally {
      worker.terminate();
      await worker.exited;
      await destination.close();
    }
    expect(destination.arrivals.every((a) => a.status !== 401)).toBe(true);
    expect(destination.arrivals.every((a) => a.headers['x-tenant'] === bearer)).toBe(true);
    expect(destination.arrivals.every((a) => verifies(secret, a))).toBe(true);
    const output = `${JSON.stringify(worker.lines)}\n${worker.stderr()}`;
    expect(worker.lines.length).toBeGreaterThan(5);
    for (const hidden of [
      password,
      encodeURIComponent(password),
      basic.slice(6),
      apiKey,
      bearer,
      secret.slice(6),
    ]) {
      expect(output).not.toContain(hidden);
    }
  }, 150_000);
});

describe('pnpm drain with bad authentication settings', () => {
  const cases: { name: string; env: Record<string, string>; key: string; hidden?: string }[] = [
    {
      name: 'a malformed signing secret',
      env: { SINK_SIGNING_SECRET: 'whsec_this-is-not-base64!' },
      key: 'sink.signingSecret',
      hidden: 'this-is-not-base64',
    },
    {
      name: 'a header name with a space',
      env: { SINK_HEADERS: '{"X Api Key":"k-secret"}' },
      key: 'sink.headers',
      hidden: 'k-secret',
    },
    {
      name: 'a CRLF in a header value',
      env: { SINK_HEADERS: '{"X-Api-Key":"k-secret\\r\\nX-Injected: 1"}' },
      key: 'sink.headers',
      hidden: 'k-secret',
    },
    {
      name: 'an override of X-Throttle-Id',
      env: { SINK_HEADERS: '{"X-Throttle-Id":"mine"}' },
      key: 'sink.headers',
    },
  ];

  it.each(cases)(
    'refuses $name in one line naming $key, exit code 2',
    async ({ env, key, hidden }) => {
      // Nothing listens on port 1: had the worker started, it would be retrying Kafka, not exiting.
      const worker = spawnWorker('bad-auth-config', {
        KAFKA_BROKERS: '127.0.0.1:1',
        SINK: 'http',
        SINK_URL: 'http://127.0.0.1:1/hook',
        ...env,
      });
      const timer = setTimeout(() => worker.signal('SIGKILL'), 30_000);
      const code = await worker.exited;
      clearTimeout(timer);
      expect(code).toBe(2);
      const lines = worker.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${key.replace('.', '\\.')}: `));
      if (hidden) expect(worker.stderr()).not.toContain(hidden);
    },
  );
});
