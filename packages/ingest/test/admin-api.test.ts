import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers, testKafka, uniqueName } from '../../../test-support/kafka.ts';
import {
  postRecord,
  type RunningIngest,
  startIngest,
  startReadyIngest,
  waitFor,
} from './support/service-harness.ts';

const TOKEN = `admin-${randomUUID()}`;
const kafka = testKafka('admin-test');
const admin = kafka.admin();
let ingest: RunningIngest;
let adminUrl: string;

interface Answer {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  options: { body?: string; token?: string | null; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined)
    headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${adminUrl}${path}`, {
    method,
    headers,
    body: options.body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text.startsWith('{') ? JSON.parse(text) : { text },
    headers: response.headers,
  };
}

async function controlEnd(): Promise<string | undefined> {
  return (await admin.fetchTopicOffsets(`${ingest.topic}.control`))[0]?.high;
}

beforeAll(async () => {
  await admin.connect();
  ingest = await startReadyIngest(
    {
      KAFKA_TOPIC: uniqueName('admin'),
      KAFKA_PARTITIONS: '3',
      DRAIN_GROUP: uniqueName('admin-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
      ADMIN_TOKEN: TOKEN,
      ADMIN_PORT: '0',
    },
    120_000,
  );
  adminUrl = `http://127.0.0.1:${ingest.service.adminPort}`;
  // Writes answer 503 not_ready until the control topic has been read once.
  await waitFor(async () => (await call('POST', '/resume')).status === 200, 120_000, 'admin ready');
});

afterAll(async () => {
  await ingest?.service.stop();
  await admin.disconnect();
});

describe('admin API', () => {
  it('refuses a missing, a wrong and a one-character-off token alike, before routing', async () => {
    const offByOne = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('a') ? 'b' : 'a'}`;
    const answers = [
      await call('GET', '/status', { token: null }),
      await call('GET', '/status', { token: 'wrong-token-wrong-token' }),
      await call('GET', '/status', { token: offByOne }),
      await call('POST', '/pause', { token: offByOne }),
      await call('GET', '/no-such-route', { token: null }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.json.error?.code).toBe('unauthorized');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call('GET', '/status')).json.state).toMatchObject({ paused: false });
  });

  it('reports state, rate, backlog with ages, members and dead-letter depth', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await postRecord(ingest.url, `status-${i}`, `{"n":${i}}`)).status).toBe(202);
    }
    const { status, json } = await call('GET', '/status');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      state: { paused: false, version: 0, source: 'config' },
      rate: { messages: 20, period: '1s', periodMs: 1000, burst: 20 },
      hold: null,
      backlog: 6,
      group: { members: [] },
      deadLetter: { topic: `${ingest.topic}.dlq`, depth: 0 },
    });
    const partitions = json.partitions as {
      backlog: number;
      committedOffset: number | null;
      oldestWaitingAgeMs: number | null;
    }[];
    expect(partitions).toHaveLength(3);
    for (const p of partitions.filter((q) => q.backlog > 0)) {
      expect(p.committedOffset).toBeNull();
      expect(p.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
      expect(p.oldestWaitingAgeMs).toBeLessThan(120_000);
    }
  });

  it('names the workers whose destination breaker is open, from the reports they write', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const report = (breaker?: object) => ({
      key: 'counts/worker-x',
      value: JSON.stringify({ delivered: 3, retried: 7, deadLettered: 0, at: Date.now(), breaker }),
    });
    const since = Date.now() - 5000;
    const breakersShown = async () => (await call('GET', '/status')).json.breakers as unknown[];
    try {
      expect(await breakersShown()).toEqual([]);
      await producer.send({
        topic: `${ingest.topic}.control`,
        messages: [report({ reason: '3 records failed in a row, the last with HTTP 503', since })],
      });
      await waitFor(
        async () => JSON.stringify(await breakersShown()).includes('worker-x'),
        30_000,
        'the open breaker shown',
      );
      expect(await breakersShown()).toEqual([
        {
          worker: 'worker-x',
          reason: '3 records failed in a row, the last with HTTP 503',
          since: new Date(since).toISOString(),
        },
      ]);
      await producer.send({ topic: `${ingest.topic}.control`, messages: [report()] });
      await waitFor(async () => (await breakersShown()).length === 0, 30_000, 'closed again');
    } finally {
      await producer.disconnect();
    }
  });

  it('pauses, refuses a stale version with 409 and changes nothing, then resumes', async () => {
    const before = (await call('GET', '/status')).json.state as { version: number };
    const paused = await call('POST', '/pause', {
      body: JSON.stringify({ version: before.version, reason: 'maintenance' }),
    });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({
      changed: true,
      state: { paused: true, version: before.version + 1, reason: 'maintenance', source: 'topic' },
    });
    const end = await controlEnd();
    const stale = await call('POST', '/resume', {
      body: JSON.stringify({ version: before.version }),
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error?.code).toBe('version_conflict');
    const staleRate = await call('PUT', '/rate', {
      body: JSON.stringify({ messages: 5, period: '1s', version: before.version }),
    });
    expect(staleRate.status).toBe(409);
    expect(await controlEnd()).toBe(end);
    expect((await call('GET', '/status')).json.state).toMatchObject({ paused: true });

    const again = await call('POST', '/pause');
    expect(again.json).toMatchObject({ changed: false, state: { version: before.version + 1 } });
    const resumed = await call('POST', '/resume');
    expect(resumed.json).toMatchObject({
      changed: true,
      state: { paused: false, version: before.version + 2 },
    });
  });

  it('sets the rate, burst defaulting to messages; the next change waits until it has settled', async () => {
    const ms = await call('PUT', '/rate', { body: '{"messages":7,"period":250}' });
    expect(ms.status).toBe(200);
    expect(ms.json.rate).toEqual({ messages: 7, period: '250ms', periodMs: 250, burst: 7 });
    const end = await controlEnd();
    const soon = await call('PUT', '/rate', { body: '{"messages":10,"period":"1s","burst":1}' });
    expect([soon.status, soon.json.error?.code]).toEqual([409, 'rate_change_pending']);
    expect(soon.json.error?.message).toContain('takes effect at');
    expect(await controlEnd()).toBe(end);
    expect((await call('GET', '/status')).json.rate).toEqual(ms.json.rate);
  });

  it('refuses every malformed change with a 4xx naming the field, and writes nothing', async () => {
    const before = await call('GET', '/status');
    const end = await controlEnd();
    const cases: [string, string, string | undefined, number, string][] = [
      ['PUT', '/rate', '{"messages":"ten","period":"1s"}', 400, 'invalid_messages'],
      ['PUT', '/rate', '{"messages":0,"period":"1s"}', 400, 'invalid_messages'],
      ['PUT', '/rate', '{"messages":2.5,"period":"1s"}', 400, 'invalid_messages'],
      ['PUT', '/rate', '{"period":"1s"}', 400, 'invalid_messages'],
      ['PUT', '/rate', '{"messages":10,"period":0}', 400, 'invalid_period'],
      ['PUT', '/rate', '{"messages":10,"period":"0s"}', 400, 'invalid_period'],
      ['PUT', '/rate', '{"messages":10,"period":"fast"}', 400, 'invalid_period'],
      ['PUT', '/rate', '{"messages":10,"period":"1s","burst":11}', 400, 'invalid_burst'],
      ['PUT', '/rate', '{"messages":10,"period":"1s","burst":0}', 400, 'invalid_burst'],
      ['PUT', '/rate', '{"messages":10,"period":"1s","version":"x"}', 400, 'invalid_version'],
      ['PUT', '/rate', '{"messages":10,"period":"1s","speed":3}', 400, 'unknown_field'],
      ['PUT', '/rate', '{"messages":10,', 400, 'invalid_json'],
      ['PUT', '/rate', '[10,"1s"]', 400, 'bad_request'],
      ['POST', '/pause', '{"version":-1}', 400, 'invalid_version'],
      ['POST', '/pause', `{"reason":"${'x'.repeat(201)}"}`, 400, 'invalid_reason'],
      ['POST', '/pause', `{"reason":"${'x'.repeat(5000)}"}`, 413, 'body_too_large'],
      ['GET', '/nothing-here', undefined, 404, 'not_found'],
      ['DELETE', '/rate', undefined, 405, 'method_not_allowed'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await call(method, path, body === undefined ? {} : { body });
      expect({ method, path, body, status: answer.status, code: answer.json.error?.code }).toEqual({
        method,
        path,
        body,
        status,
        code,
      });
      expect(typeof answer.json.error?.message).toBe('string');
    }
    const wrongType = await call('PUT', '/rate', {
      body: '{"messages":10,"period":"1s"}',
      contentType: 'text/plain',
    });
    expect([wrongType.status, wrongType.json.error?.code]).toEqual([415, 'unsupported_media_type']);
    expect(await controlEnd()).toBe(end);
    const after = await call('GET', '/status');
    expect([after.json.state, after.json.rate]).toEqual([before.json.state, before.json.rate]);
  });

  it('serves metrics on the admin port behind the token, and no longer on the public port', async () => {
    const metrics = await fetch(`${adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('ingest_http_requests_total');
    expect((await call('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await fetch(`${ingest.url}/metrics`)).status).toBe(404);
  });
});

describe('without an admin token', () => {
  it('runs no admin server and keeps metrics on the public port', async () => {
    const plain = await startIngest({
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('no-admin'),
    });
    try {
      expect(plain.service.adminPort).toBe(0);
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(200);
    } finally {
      await plain.service.stop();
    }
  });
});
